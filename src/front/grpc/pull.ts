import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { AnswerSink } from '../dispatcher.js';
import { type GrpcContext, type LiveCall, MAX_MESSAGE, statusOf } from './context.js';
import type { UnaryHandler } from './unary.js';

/**
 * One blocking Pull or PullBatch: the request waits in the shard (no timeout) under a connection
 * id of its own, until a job is ready or the call ends.
 *
 * Leases: while the call waits, a cancellation or a passed deadline closes that connection id,
 * so the shard drops the wait and fails back a job it may have leased in the same instant. Once
 * the answer is handed to grpc-js the jobs belong to the client: the id is released without a
 * close, so only Ack/Fail or the job's own timeout end the lease (unary calls have no
 * connection to watch; workers that want fail-back on disconnect use StreamJobs/ProcessJobs).
 */
class BlockingPull implements AnswerSink, LiveCall {
  private readonly conn: number;
  private readonly shard: number;
  private done = false;

  constructor(
    private readonly ctx: GrpcContext,
    private readonly call: ServerUnaryCall<Buffer, Buffer>,
    private readonly callback: sendUnaryData<Buffer>,
    method: number,
    private readonly single: boolean,
  ) {
    const queue = ctx.reader.scanQueue(call.request);
    this.shard = queue === null ? 0 : ctx.router.shardOfQueue(queue);
    this.conn = ctx.dispatcher.allocConn(this);
    ctx.live.add(this);
    // grpc-js emits 'cancelled' after every call, answered or not: `done` tells them apart
    call.on('cancelled', () => this.abandon());
    ctx.send(this.shard, this.conn, 1, method, call.request);
  }

  deliver(_seq: number, code: number, bytes: Uint8Array): void {
    if (this.done) return;
    if (this.call.cancelled || this.pastDeadline()) {
      this.abandon();
      return;
    }
    this.finish();
    if (code !== 0) {
      this.ctx.dispatcher.releaseConn(this.conn);
      this.callback(statusOf(code, bytes));
    } else if (this.single && bytes.length === 0) {
      // the shard answered a parked pull with no job: it is stopping
      this.ctx.dispatcher.releaseConn(this.conn);
      this.callback(this.ctx.shuttingDown);
    } else if (bytes.length > MAX_MESSAGE) {
      this.ctx.dispatcher.connClosed(this.conn, [this.shard]);
      this.callback({
        code: status.RESOURCE_EXHAUSTED,
        details: `Payload too large (${bytes.length} bytes, max ${MAX_MESSAGE}): pull fewer jobs at once`,
      });
    } else {
      this.ctx.dispatcher.releaseConn(this.conn);
      this.callback(null, Buffer.from(bytes));
    }
  }

  flushOut(): void {}

  /** The client went away (cancel, deadline): drop the wait, fail back what raced the cancel. */
  private abandon(): void {
    if (this.done) return;
    this.finish();
    this.ctx.dispatcher.connClosed(this.conn, [this.shard]);
  }

  shutdown(): void {
    if (this.done) return;
    this.abandon();
    this.callback(this.ctx.shuttingDown);
  }

  private finish(): void {
    this.done = true;
    this.ctx.live.delete(this);
  }

  private pastDeadline(): boolean {
    const d = this.call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return ms !== Infinity && Date.now() >= ms;
  }
}

export function pull(ctx: GrpcContext, method: number, single: boolean): UnaryHandler {
  return (call, callback) => {
    const denied = ctx.authorize(call.metadata);
    if (denied) return callback(denied);
    if (ctx.closing) return callback(ctx.shuttingDown);
    new BlockingPull(ctx, call, callback, method, single);
  };
}
