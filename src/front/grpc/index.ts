import {
  Server as GrpcServer,
  ServerCredentials,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GrpcMethod } from '../../protocol/grpc-codec.js';
import type { FrontParts } from '../parts.js';
import { GrpcContext, MAX_MESSAGE } from './context.js';
import { JobProcessor, processOptions } from './process-jobs.js';
import { pull } from './pull.js';
import { JobStream } from './stream-jobs.js';
import { ackBatch, byId, byQueue, stats } from './unary.js';

/** Messages cross the front as bytes: the shards decode requests and encode responses. */
const identity = (b: Buffer): Buffer => b;

function method(name: string, requestStream: boolean, responseStream: boolean): MethodDefinition<Buffer, Buffer> {
  return {
    path: `/flashq.QueueService/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** flashq.QueueService as in proto/flashq.proto. */
export const QUEUE_SERVICE: ServiceDefinition = {
  Push: method('Push', false, false),
  PushBatch: method('PushBatch', false, false),
  Pull: method('Pull', false, false),
  PullBatch: method('PullBatch', false, false),
  Ack: method('Ack', false, false),
  AckBatch: method('AckBatch', false, false),
  Fail: method('Fail', false, false),
  GetState: method('GetState', false, false),
  Stats: method('Stats', false, false),
  StreamJobs: method('StreamJobs', false, true),
  ProcessJobs: method('ProcessJobs', true, true),
};

function handlers(ctx: GrpcContext): UntypedServiceImplementation {
  return {
    Push: byQueue(ctx, GrpcMethod.Push),
    PushBatch: byQueue(ctx, GrpcMethod.PushBatch),
    Pull: pull(ctx, GrpcMethod.Pull, true),
    PullBatch: pull(ctx, GrpcMethod.PullBatch, false),
    Ack: byId(ctx, GrpcMethod.Ack),
    AckBatch: ackBatch(ctx),
    Fail: byId(ctx, GrpcMethod.Fail),
    GetState: byId(ctx, GrpcMethod.GetState),
    Stats: stats(ctx),
    StreamJobs: (call: ServerWritableStream<Buffer, Buffer>) => {
      const denied = ctx.authorize(call.metadata);
      if (denied) return call.emit('error', denied);
      if (ctx.closing) return call.emit('error', ctx.shuttingDown);
      new JobStream(ctx, call);
    },
    ProcessJobs: (call: ServerDuplexStream<Buffer, Buffer>) => {
      const denied = ctx.authorize(call.metadata);
      if (denied) return call.emit('error', denied);
      if (ctx.closing) return call.emit('error', ctx.shuttingDown);
      const opts = processOptions(ctx, call);
      if ('code' in opts) return call.emit('error', opts);
      new JobProcessor(ctx, call, opts.queue, opts.prefetch);
    },
  };
}

/** How long close() lets calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 2000;

/** gRPC QueueService on @grpc/grpc-js (port GRPC_PORT). */
export class GrpcFront {
  private constructor(
    private readonly server: GrpcServer,
    private readonly ctx: GrpcContext,
    readonly port: number,
  ) {}

  static async start(parts: FrontParts): Promise<GrpcFront> {
    const ctx = new GrpcContext(parts);
    const grpc = new GrpcServer({
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
    });
    grpc.addService(QUEUE_SERVICE, handlers(ctx));
    const { host, grpcPort } = parts.config;
    const address = host.includes(':') ? `[${host}]:${grpcPort}` : `${host}:${grpcPort}`;
    const port = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    return new GrpcFront(grpc, ctx, port);
  }

  /** Stop accepting; end waiting pulls and streams (leases fail back); let unary calls finish. */
  async close(): Promise<void> {
    this.ctx.closeAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.ctx.release();
  }
}
