import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { encodeGrpc, GrpcMethod } from '../../protocol/grpc-codec.js';
import { errors, FlashqError } from '../../base/errors.js';
import { Format } from '../../protocol/result.js';
import { type GrpcContext, statusOf, statusOfError } from './context.js';

export type UnaryHandler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void;

function answer(callback: sendUnaryData<Buffer>): (code: number, bytes: Buffer) => void {
  return (code, bytes) => (code === 0 ? callback(null, bytes) : callback(statusOf(code, bytes)));
}

/**
 * A call answered by the one shard its routing field names; the request bytes go there as they
 * came. `shardOf` reads only that field.
 */
function routed(ctx: GrpcContext, method: number, shardOf: (message: Buffer) => number): UnaryHandler {
  return (call, callback) => {
    const denied = ctx.admit(call.metadata);
    if (denied) return callback(denied);
    ctx.unary.ask(shardOf(call.request), method, call.request, answer(callback));
  };
}

export function byQueue(ctx: GrpcContext, method: number): UnaryHandler {
  return routed(ctx, method, (m) => {
    const queue = ctx.reader.scanQueue(m);
    // unparsable: any shard words the decode error
    return queue === null ? 0 : ctx.router.shardOfQueue(queue);
  });
}

export function byId(ctx: GrpcContext, method: number): UnaryHandler {
  return routed(ctx, method, (m) => ctx.router.shardOfId(ctx.reader.scanId(m)));
}

/** AckBatch: ids may live on several shards; split them and answer the sum of what each acked. */
export function ackBatch(ctx: GrpcContext): UnaryHandler {
  return (call, callback) => {
    const denied = ctx.admit(call.metadata);
    if (denied) return callback(denied);
    const route = ctx.router.ackBatchRoute(ctx.reader.scanIds(call.request), ctx.maxBatch);
    if (typeof route === 'number') {
      ctx.unary.ask(route, GrpcMethod.AckBatch, call.request, answer(callback));
      return;
    }
    ctx.fanout.ackSplit(route, Format.Grpc, null).then(
      ({ code, bytes }) => answer(callback)(code, Buffer.from(bytes)),
      (e: unknown) => callback(statusOfError(e instanceof FlashqError ? e : errors.internal(String(e)))),
    );
  };
}

/** Stats: every shard's counts, merged here. */
export function stats(ctx: GrpcContext): UnaryHandler {
  return (call, callback) => {
    const denied = ctx.authorize(call.metadata);
    if (denied) return callback(denied);
    ctx.fanout.result({ cmd: 'STATS' }).then(
      (result) => callback(null, Buffer.from(encodeGrpc(ctx.writer, { cmd: 'STATS' }, result))),
      (e: unknown) => callback(statusOfError(e instanceof FlashqError ? e : errors.internal(String(e)))),
    );
  };
}
