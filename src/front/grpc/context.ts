import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { GRPC_STATUS, errors, type FlashqError } from '../../base/errors.js';
import { Format } from '../../protocol/result.js';
import { ProtoReader, ProtoWriter } from '../../protocol/grpc-wire.js';
import { Kind } from '../../ring/kinds.js';
import type { AnswerSink, Dispatcher } from '../dispatcher.js';
import type { Fanout } from '../fanout.js';
import type { ShardRouter } from '../shard-router.js';
import type { Auth } from '../auth.js';
import type { FrontParts } from '../parts.js';

/**
 * Largest message either way. A PushBatch of 1000 jobs of 64 KiB fits; 1000 jobs of the full
 * 1 MiB payload limit would be 1 GiB, which no client should send in one message: bigger
 * requests get RESOURCE_EXHAUSTED from grpc-js, bigger PullBatch answers are refused (and their
 * jobs failed back) before they are sent.
 */
export const MAX_MESSAGE = 64 * 1024 * 1024;

export type GrpcError = Partial<StatusObject> & { code: status; details: string };

/** A call the front must end when it stops (blocking pulls, streams). */
export interface LiveCall {
  shutdown(): void;
}

const SHUTTING_DOWN: GrpcError = { code: status.UNAVAILABLE, details: 'Server shutting down' };
/** as HTTP's 503: grpc-js cannot stop reading a connection's calls, so new ones are turned away */
const BUSY: GrpcError = { code: status.UNAVAILABLE, details: 'Server busy: retry later' };

/** The gRPC codec answers an error with its text. */
export function errorText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function statusOf(code: number, bytes: Uint8Array): GrpcError {
  return { code: (GRPC_STATUS[code] ?? status.INTERNAL) as status, details: errorText(bytes) };
}

export function statusOfError(err: FlashqError): GrpcError {
  return { code: (GRPC_STATUS[err.code] ?? status.INTERNAL) as status, details: err.message };
}

/**
 * Answers of the calls that hold no lease and cannot block (Push, PushBatch, Ack, Fail, GetState,
 * AckBatch): one connection id for all of them, told apart by seq.
 */
class UnaryChannel implements AnswerSink {
  readonly conn: number;
  private next = 1;
  private readonly pending = new Map<number, (code: number, bytes: Buffer) => void>();

  constructor(private readonly ctx: GrpcContext) {
    this.conn = ctx.dispatcher.allocConn(this);
  }

  ask(shard: number, method: number, message: Uint8Array, done: (code: number, bytes: Buffer) => void): void {
    const seq = this.next;
    this.next = seq >= 0xffffffff ? 1 : seq + 1;
    this.pending.set(seq, done);
    this.ctx.send(shard, this.conn, seq, method, message);
  }

  deliver(seq: number, code: number, bytes: Uint8Array): void {
    const done = this.pending.get(seq);
    if (done === undefined) return;
    this.pending.delete(seq);
    // the view is into a shard frame, valid only during this turn; grpc-js may write later
    done(code, Buffer.from(bytes));
  }

  flushOut(): void {}
}

/** What the gRPC handlers share: the server's parts, the unary channel, the live calls. */
export class GrpcContext {
  readonly dispatcher: Dispatcher;
  readonly router: ShardRouter;
  readonly fanout: Fanout;
  readonly auth: Auth;
  readonly maxBatch: number;
  readonly unary: UnaryChannel;
  readonly live = new Set<LiveCall>();
  /** this listener's protobuf cursor (routing scans) and writer (records the front builds) */
  readonly reader = new ProtoReader();
  readonly writer = new ProtoWriter();
  closing = false;
  private scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(parts: FrontParts) {
    this.dispatcher = parts.dispatcher;
    this.router = parts.router;
    this.fanout = parts.fanout;
    this.auth = parts.auth;
    this.maxBatch = parts.config.maxBatch;
    this.unary = new UnaryChannel(this);
  }

  /** A request record `[method][message]` to a shard; the link copies it before send returns. */
  send(shard: number, conn: number, seq: number, method: number, message: Uint8Array): void {
    const n = message.length + 1;
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    this.scratch[0] = method;
    this.scratch.set(message, 1);
    this.dispatcher.send(shard, Kind.REQUEST, Format.Grpc, conn, seq, this.scratch.subarray(0, n));
  }

  /** A prepared record (built by the codec) to a shard. */
  sendRecord(shard: number, conn: number, seq: number, record: Uint8Array): void {
    this.dispatcher.send(shard, Kind.REQUEST, Format.Grpc, conn, seq, record);
  }

  /** null when the call may proceed, else the UNAUTHENTICATED status to end it with. */
  authorize(metadata: Metadata): GrpcError | null {
    if (!this.auth.enabled) return null;
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || header.length === 0) return statusOfError(errors.authRequired());
    return this.auth.checkBearer(header) ? null : statusOfError(errors.authInvalid());
  }

  /**
   * authorize(), then back-pressure: while a shard's ring is full (TCP sockets are paused) a call
   * that would add to it is refused, so what waits on the front for the rings stays bounded.
   */
  admit(metadata: Metadata): GrpcError | null {
    return this.authorize(metadata) ?? (this.dispatcher.paused ? BUSY : null);
  }

  get shuttingDown(): GrpcError {
    return SHUTTING_DOWN;
  }

  /** Stop: end every blocking pull and stream (their leases fail back); unary calls still get answers. */
  closeAll(): void {
    this.closing = true;
    for (const call of [...this.live]) call.shutdown();
    this.live.clear();
  }

  /** After the listener stopped: nothing reads unary answers any more. */
  release(): void {
    this.dispatcher.releaseConn(this.unary.conn);
  }
}
