import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { ErrorCode } from '../../base/errors.js';
import { ackBatchRecord, GrpcMethod, pullBatchRecord } from '../../protocol/grpc-codec.js';
import type { AnswerSink } from '../dispatcher.js';
import { type GrpcContext, type GrpcError, type LiveCall, statusOf } from './context.js';
import { StreamRoute } from './stream-route.js';

/** Jobs delivered and awaiting their result, when metadata `prefetch` does not say. */
export const DEFAULT_IN_FLIGHT = 100;

const PULL_SEQ = 1;
const RESULT_SEQ = 2;

/** The stream's queue and in-flight bound from call metadata; an error status when invalid. */
export function processOptions(ctx: GrpcContext, call: ServerDuplexStream<Buffer, Buffer>): { queue: string; prefetch: number } | GrpcError {
  const q = call.metadata.get('queue')[0];
  const queue = typeof q === 'string' && q.length > 0 ? q : 'default';
  const p = call.metadata.get('prefetch')[0];
  const max = 10 * ctx.maxBatch;
  let prefetch = DEFAULT_IN_FLIGHT;
  if (p !== undefined) {
    prefetch = Number(p);
    if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > max) {
      return { code: status.INVALID_ARGUMENT, details: `Invalid metadata "prefetch": expected an integer 1..${max}` };
    }
  }
  return { queue, prefetch };
}

/**
 * ProcessJobs: jobs of the metadata's queue flow out while at most `prefetch` are in flight
 * (written, result not received yet); each JobResult acks (success, optional JSON result) or
 * fails (error text) its job and makes room for the next. Writes respect back-pressure: nothing
 * is pulled while grpc-js reports a full buffer, until 'drain'.
 *
 * Round trips are batched both ways: results received in one event-loop turn make room for one
 * pull at the end of the turn, and the plain successes among them (no result payload) go to the
 * shard as one AckBatch; results with a payload, and failures, go one by one.
 *
 * A result for a job that is no longer active (it timed out, or was settled elsewhere) is
 * ignored, and so is one refused because the job's partition moves (StreamRoute.resultDropped);
 * any other refused result (e.g. invalid JSON) ends the stream with its status. When the
 * stream ends for any reason (client half-close, cancel, server stop), jobs still in flight are
 * failed back by closing the stream's connection id (results sent before that are applied
 * first: they travel ahead of the close to the same shard).
 *
 * Cluster mode: pulls and batched acks go to the node serving the queue at that moment
 * (StreamRoute); a pull refused while the partition moves is retried, so the stream keeps
 * delivering after the move. A result refused then is dropped: the job's lease was lost with the
 * old owner, whose successor fails the job back (attempt spent), and it is delivered again.
 */
export class JobProcessor implements AnswerSink, LiveCall {
  private readonly conn: number;
  private readonly route: StreamRoute;
  /** the link of the pull in flight (and of the acks batched meanwhile) */
  private shard: number;
  private readonly inFlight = new Set<number>();
  private pulling = false;
  private writable = true;
  private closed = false;
  /** plain successes of this turn, sent together (ids of the queue's shard) */
  private acks: number[] = [];
  private turnScheduled = false;
  private readonly unwatch: () => void;

  constructor(
    private readonly ctx: GrpcContext,
    private readonly call: ServerDuplexStream<Buffer, Buffer>,
    private readonly queue: string,
    private readonly prefetch: number,
  ) {
    this.route = new StreamRoute(ctx.router, queue);
    this.shard = this.route.current();
    this.conn = ctx.dispatcher.allocConn(this);
    ctx.live.add(this);
    call.on('data', (msg: Buffer) => this.result(msg));
    // a stream can be paused: its results wait in HTTP/2 flow control while the shard's ring is full
    this.unwatch = ctx.dispatcher.onPause((paused) => (paused ? call.pause() : call.resume()));
    if (ctx.dispatcher.paused) call.pause();
    call.on('end', () => this.end({ code: status.OK, details: 'OK' }));
    call.on('cancelled', () => this.end(null));
    call.on('error', () => this.end(null));
    call.on('drain', () => {
      this.writable = true;
      this.pump();
    });
    this.pump();
  }

  private pump(): void {
    if (this.closed || this.pulling || !this.writable) return;
    const room = this.prefetch - this.inFlight.size;
    if (room <= 0) return;
    // acks first: the jobs they complete free concurrency slots before the pull is served
    this.flushAcks();
    this.pulling = true;
    this.shard = this.route.current();
    this.ctx.sendRecord(this.shard, this.conn, PULL_SEQ, pullBatchRecord(this.ctx.writer, this.queue, Math.min(room, this.ctx.maxBatch)));
  }

  private result(msg: Buffer): void {
    if (this.closed) return;
    const plain = this.ctx.reader.scanPlainSuccess(msg);
    if (plain > 0 && this.ctx.router.shardOfId(plain) === this.shard) {
      this.inFlight.delete(plain);
      this.acks.push(plain);
      if (this.acks.length >= this.ctx.maxBatch) this.flushAcks();
    } else {
      const id = this.ctx.reader.scanId(msg);
      this.inFlight.delete(id);
      this.ctx.send(id > 0 ? this.ctx.router.shardOfId(id) : this.shard, this.conn, RESULT_SEQ, GrpcMethod.JobResult, msg);
    }
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(this.endOfTurn);
    }
  }

  private readonly endOfTurn = (): void => {
    this.turnScheduled = false;
    this.flushAcks();
    this.pump();
  };

  /** Jobs that were not active any more are skipped by AckBatch, as single results ignore NotFound. */
  private flushAcks(): void {
    if (this.acks.length === 0) return;
    this.ctx.sendRecord(this.shard, this.conn, RESULT_SEQ, ackBatchRecord(this.ctx.writer, this.acks));
    this.acks = [];
  }

  deliver(seq: number, code: number, bytes: Uint8Array): void {
    if (this.closed) return;
    if (seq === RESULT_SEQ) {
      // the job left inFlight when its result was sent: the room is already made
      if (code !== 0 && !this.route.resultDropped(code)) this.end(statusOf(code, bytes));
      return;
    }
    if (code !== 0) return this.refused(code, bytes);
    // a parked pull released by a stopping shard: this server stops, or (cluster mode) the
    // partition left that shard's node and the next pull finds its new owner
    if (bytes.length === 0) return this.ctx.closing || !this.ctx.router.clustered ? this.end(this.ctx.shuttingDown) : this.refused(ErrorCode.NotServed, bytes);
    this.pulling = false;
    this.route.served();
    this.ctx.reader.forEachLenField1(bytes, (s, e) => {
      this.inFlight.add(this.ctx.reader.scanId(bytes, s, e));
      if (!this.call.write(Buffer.from(bytes.subarray(s, e)))) this.writable = false;
    });
    this.pump();
  }

  /** A refused pull: pull again once the partition moved, or end the stream with the refusal. */
  private refused(code: number, bytes: Uint8Array): void {
    const wait = this.route.retryAfter(code);
    if (wait < 0) return this.end(statusOf(code, bytes));
    setTimeout(() => {
      this.pulling = false;
      this.pump();
    }, wait);
  }

  flushOut(): void {}

  shutdown(): void {
    this.end(this.ctx.shuttingDown);
  }

  private end(err: GrpcError | null): void {
    if (this.closed) return;
    // results received before the end are applied before the close fails back the rest
    this.flushAcks();
    this.closed = true;
    this.unwatch();
    this.ctx.live.delete(this);
    this.ctx.dispatcher.connClosed(this.conn, this.route.links);
    if (err === null || this.call.cancelled) return;
    if (err.code === status.OK) this.call.end();
    else this.call.emit('error', err);
  }
}
