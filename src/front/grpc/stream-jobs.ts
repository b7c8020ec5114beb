import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { ErrorCode } from '../../base/errors.js';
import { pullBatchRecord } from '../../protocol/grpc-codec.js';
import type { AnswerSink } from '../dispatcher.js';
import { type GrpcContext, type GrpcError, type LiveCall, statusOf } from './context.js';
import { StreamRoute } from './stream-route.js';

/** Jobs per pull when the request leaves batch_size at 0 (as the reference server). */
const DEFAULT_BATCH = 1;

/**
 * StreamJobs: pulls of `batch_size` jobs (at most one waiting in the shard at a time), each job
 * written as one message.
 *
 * Flow control: `prefetch` (default batch_size) bounds the jobs written to the call that the
 * transport has not taken yet (write callback not called: they sit in grpc-js's or HTTP/2's
 * buffers because the client does not read); the next pull asks for at most the room left, and
 * nothing is pulled while `write()` reports a full buffer until 'drain'. A client that stops
 * reading therefore leaves the jobs behind in the queue, beyond what its HTTP/2 window holds.
 *
 * Leases: jobs pulled for the stream are leased to its connection id; Ack/Fail calls settle them
 * by id as usual. When the stream ends (cancelled, deadline, server stop), the id is closed and
 * the shard fails back every job of the stream still active (attempt spent), as for a TCP
 * connection that closes.
 *
 * Cluster mode: each pull goes to the node serving the queue at that moment (StreamRoute), so the
 * stream keeps delivering after its queue's partition moved to another node.
 */
export class JobStream implements AnswerSink, LiveCall {
  private readonly conn: number;
  private readonly route: StreamRoute;
  private readonly queue: string;
  private readonly batch: number;
  private readonly prefetch: number;
  private unsent = 0;
  private pulling = false;
  private writable = true;
  private closed = false;
  private seq = 0;

  constructor(
    private readonly ctx: GrpcContext,
    private readonly call: ServerWritableStream<Buffer, Buffer>,
  ) {
    const req = ctx.reader.scanStreamRequest(call.request);
    this.queue = req?.queue ?? '';
    const max = ctx.maxBatch;
    this.batch = Math.min(max, req && req.batchSize > 0 ? req.batchSize : DEFAULT_BATCH);
    this.prefetch = req && req.prefetch > 0 ? Math.min(req.prefetch, 10 * max) : this.batch;
    this.route = new StreamRoute(ctx.router, this.queue);
    this.conn = ctx.dispatcher.allocConn(this);
    ctx.live.add(this);
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
    const room = this.prefetch - this.unsent;
    if (room <= 0) return;
    this.pulling = true;
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    this.ctx.sendRecord(this.route.current(), this.conn, this.seq, pullBatchRecord(this.ctx.writer, this.queue, Math.min(this.batch, room)));
  }

  deliver(_seq: number, code: number, bytes: Uint8Array): void {
    this.pulling = false;
    if (this.closed) return;
    if (code !== 0) return this.refused(code, bytes);
    // a parked pull released by a stopping shard: this server stops, or (cluster mode) the
    // partition left that shard's node and the next pull finds its new owner
    if (bytes.length === 0) return this.ctx.closing || !this.ctx.router.clustered ? this.end(this.ctx.shuttingDown) : this.refused(ErrorCode.NotServed, bytes);
    this.route.served();
    this.ctx.reader.forEachLenField1(bytes, (s, e) => {
      this.unsent++;
      // copy: the answer is a view into a shard frame, and grpc-js may buffer the message
      if (!this.call.write(Buffer.from(bytes.subarray(s, e)), this.written)) this.writable = false;
    });
    this.pump();
  }

  /** A refused pull: pull again once the partition moved, or end the stream with the refusal. */
  private refused(code: number, bytes: Uint8Array): void {
    const wait = this.route.retryAfter(code);
    if (wait < 0) return this.end(statusOf(code, bytes));
    this.pulling = true;
    setTimeout(() => {
      this.pulling = false;
      this.pump();
    }, wait);
  }

  flushOut(): void {}

  private pumpScheduled = false;

  /** Write callbacks come in bursts: pull once for all the room they made, at the end of the turn. */
  private readonly written = (): void => {
    this.unsent--;
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  };

  shutdown(): void {
    this.end(this.ctx.shuttingDown);
  }

  /** End the stream once (status null: the client already left); its leases fail back. */
  private end(err: GrpcError | null): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.live.delete(this);
    this.ctx.dispatcher.connClosed(this.conn, this.route.links);
    if (err === null || this.call.cancelled) return;
    if (err.code === status.OK) this.call.end();
    else this.call.emit('error', err);
  }
}
