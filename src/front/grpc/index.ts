import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import {
  Server as GrpcServer,
  ServerCredentials,
  ServerInterceptingCall,
  status,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { TlsConfig } from '../../config.js';
import { log } from '../../log.js';
import { errors } from '../../base/errors.js';
import { GrpcMethod } from '../../protocol/grpc-codec.js';
import type { FrontParts } from '../parts.js';
import type { ConnectionLimit } from '../limits.js';
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
/** How long a connection over MAX_CONNECTIONS stays open so its calls can be told why. */
const REFUSED_LINGER_MS = 2000;

function credentials(tls: TlsConfig | null): ServerCredentials {
  if (tls === null) return ServerCredentials.createInsecure();
  // with a CA, a client must present a certificate it signed
  return ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], tls.ca !== null);
}

/** `address:port` as grpc-js names a call's peer. */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/**
 * Connections over MAX_CONNECTIONS: grpc-js serves them (the listener is ours, its sessions are
 * not), but every call on one ends at once with RESOURCE_EXHAUSTED naming the limit, and the
 * connection is closed shortly after.
 */
class Refusals {
  readonly peers = new Set<string>();

  constructor(private readonly limit: ConnectionLimit) {}

  add(socket: Socket): void {
    const peer = peerOf(socket);
    this.peers.add(peer);
    socket.once('close', () => this.peers.delete(peer));
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
    log.debug('grpc connection refused: MAX_CONNECTIONS reached', { max: this.limit.max });
  }

  readonly interceptor: ServerInterceptor = (_method, call: ServerInterceptingCallInterface) => {
    if (this.peers.size === 0 || !this.peers.has(call.getPeer())) return call as ServerInterceptingCall;
    const details = errors.tooManyConnections(this.limit.max).message;
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onReceiveMetadata: () => call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details }) }),
    });
  };
}

/**
 * gRPC QueueService on @grpc/grpc-js (port GRPC_PORT). The TCP listener is ours and hands each
 * connection to grpc-js (a connection injector), so connections are counted in MAX_CONNECTIONS;
 * TLS (TLS_CERT_FILE, TLS_KEY_FILE, client certificates with TLS_CA_FILE) is grpc-js's own.
 */
export class GrpcFront {
  private constructor(
    private readonly server: GrpcServer,
    private readonly listener: NetServer,
    private readonly sockets: Set<Socket>,
    private readonly ctx: GrpcContext,
    readonly port: number,
  ) {}

  static async start(parts: FrontParts): Promise<GrpcFront> {
    const ctx = new GrpcContext(parts);
    const limit = parts.limit;
    const refusals = new Refusals(limit);
    const idle = parts.config.idleTimeoutMs;
    const grpc = new GrpcServer({
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
      // IDLE_TIMEOUT_MS. A connection with no call open for that long is closed (GOAWAY; a client
      // channel reconnects on its next call): this ends one that sent only part of the preface or
      // of a frame and stopped. Every connection is also pinged that often and dropped when a ping
      // is not answered within the same time, which ends one stuck mid-frame with a call open; a
      // healthy client answers pings by itself, so a worker waiting on an open stream stays.
      'grpc.max_connection_idle_ms': idle,
      'grpc.keepalive_time_ms': idle,
      'grpc.keepalive_timeout_ms': idle,
      interceptors: [refusals.interceptor],
    });
    grpc.addService(QUEUE_SERVICE, handlers(ctx));
    const injector = grpc.createConnectionInjector(credentials(parts.config.tls));
    const sockets = new Set<Socket>();
    const listener = createNetServer({ noDelay: true }, (socket) => {
      socket.on('error', () => {
        // a reset by the peer ends in 'close'; grpc-js reports nothing either
      });
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      if (limit.tryAcquire()) socket.once('close', () => limit.release());
      else refusals.add(socket);
      injector.injectConnection(socket);
    });
    const { host, grpcPort } = parts.config;
    const port = await new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(grpcPort, host, () => {
        listener.off('error', reject);
        const a = listener.address();
        resolve(typeof a === 'object' && a ? a.port : grpcPort);
      });
    });
    return new GrpcFront(grpc, listener, sockets, ctx, port);
  }

  /** Stop accepting; end waiting pulls and streams (leases fail back); let unary calls finish. */
  async close(): Promise<void> {
    const listening = new Promise<void>((r) => this.listener.close(() => r()));
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
    // sockets grpc-js holds no session for (a TLS handshake under way) end here
    for (const s of this.sockets) s.destroy();
    await listening;
  }
}
