import type { Socket } from 'node:net';
import { Kind } from '../ring/kinds.js';
import { Format } from '../protocol/result.js';
import { errors, type FlashqError } from '../base/errors.js';
import type { AnswerSink } from './dispatcher.js';
import type { TcpRouter } from './tcp-router.js';

/**
 * Requests read and not yet answered on one connection before its socket stops being read (and
 * answers buffered out of order, at most as many).
 */
export const MAX_INFLIGHT = 32_768;
/**
 * Answer bytes written and not yet taken by the client before its socket stops being read: a
 * client that sends and never reads holds at most this much plus the answers to requests already
 * read (MAX_INFLIGHT).
 */
export const MAX_UNSENT = 1024 * 1024;

/**
 * Every accepted MessagePack length prefix starts with 0x00 (frames are far below 16 MiB); anything
 * else is JSON lines, so a client whose first line is not an object still gets `Invalid JSON`.
 */
export function isJsonStart(b: number): boolean {
  return b !== 0x00;
}

/** A connection's request splitter: feeds requests on, knows whether one is half received. */
export interface Splitter {
  push(chunk: Buffer): void;
  /** part of a request (line or frame) is buffered */
  readonly midRequest: boolean;
}

const enum Mode {
  Unknown = 0,
  Json = 1,
  Msgpack = 2,
}

/**
 * One client connection (TCP or Unix socket): detects the framing on the first byte, splits
 * requests, lets the TcpRouter send them to shards, and writes answers strictly in request
 * order (a PULL that waits holds back the answers behind it, as clients match answers by order).
 */
export class TcpConnection implements AnswerSink {
  id = 0;
  private mode = Mode.Unknown;
  private nextSeq = 0;
  private nextWrite = 0;
  private readonly held = new Map<number, Uint8Array>();
  private out: Uint8Array[] = [];
  private inflight = 0;
  authed: boolean;
  /** shards that may hold leases or parked pulls of this connection */
  readonly touched: Set<number> = new Set();
  private closed = false;
  private pausedForInflight = false;
  private pausedForShards = false;
  private pausedForUnsent = false;
  /** idle-timeout sweeps since the last bytes arrived */
  private quietSweeps = 0;
  private authFailures = 0;
  /** binary framing cannot resynchronise after an oversized frame: close once answered */
  private closeAfterFlush = false;
  private split: Splitter | null = null;

  constructor(
    readonly socket: Socket,
    private readonly tcpRouter: TcpRouter,
    authRequired: boolean,
    private readonly maxAuthFailures: number = Infinity,
  ) {
    this.authed = !authRequired;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
  }

  get format(): Format {
    return this.mode === Mode.Msgpack ? Format.TcpMsgpack : Format.TcpJson;
  }

  get pending(): number {
    return this.inflight;
  }

  private onData(chunk: Buffer): void {
    this.quietSweeps = 0;
    if (this.closed || this.closeAfterFlush) return;
    if (this.mode === Mode.Unknown) this.mode = isJsonStart(chunk[0]!) ? Mode.Json : Mode.Msgpack;
    (this.split ??= this.tcpRouter.splitterFor(this)).push(chunk);
  }

  /**
   * Called by the idle sweep: whether part of a request has waited `limit` sweeps for the rest.
   * A connection quiet between requests is never stalled (a worker may wait long for jobs).
   */
  stalledSweeps(limit: number): boolean {
    // while the server itself stopped reading, the client's silence is not the client's doing
    const paused = this.pausedForInflight || this.pausedForShards || this.pausedForUnsent;
    if (this.split === null || !this.split.midRequest || paused || this.closed || this.closeAfterFlush) {
      this.quietSweeps = 0;
      return false;
    }
    return ++this.quietSweeps >= limit;
  }

  /** Close a connection that stopped in the middle of a request, telling it why. */
  closeStalled(idleMs: number): void {
    const seq = this.nextSlot();
    this.closeAfterFlush = true;
    this.answerNow(seq, errors.badRequest(`Request incomplete: nothing received for ${idleMs} ms in the middle of a request (IDLE_TIMEOUT_MS), connection closed`));
  }

  /** A failed AUTH: answered, and past MAX_AUTH_FAILURES on this connection, closed. */
  authFailed(seq: number, reqId: string | number | null): void {
    this.authFailures++;
    if (this.authFailures < this.maxAuthFailures) {
      this.answerNow(seq, errors.authInvalid(), undefined, reqId);
      return;
    }
    this.closeAfterFlush = true;
    this.answerNow(seq, errors.authClosing(this.authFailures), undefined, reqId);
  }

  /** Reserve the next answer slot (request order). */
  nextSlot(): number {
    this.inflight++;
    if (this.inflight >= MAX_INFLIGHT && !this.pausedForInflight) {
      this.pausedForInflight = true;
      this.socket.pause();
    }
    return this.nextSeq++;
  }

  /** Answer a slot from the front itself (AUTH, errors found before routing). */
  answerNow(seq: number, err: FlashqError | null, bytes?: Uint8Array, reqId: string | number | null = null): void {
    this.deliver(seq, err ? err.code : 0, err ? this.tcpRouter.encoder.error(this.format, err, reqId) : bytes!);
    this.flushOut();
  }

  oversize(bytes: number): void {
    const seq = this.nextSlot();
    if (this.mode === Mode.Msgpack) this.closeAfterFlush = true;
    this.answerNow(seq, errors.payloadTooLarge(bytes));
  }

  send(shard: number, seq: number, payload: Uint8Array | string): void {
    this.touched.add(shard);
    this.tcpRouter.dispatcher.send(shard, Kind.REQUEST, this.format, this.id, seq, payload);
  }

  deliver(seq: number, _code: number, bytes: Uint8Array): void {
    if (seq !== this.nextWrite) {
      // out of order (another shard was faster): keep a copy until the answers before it are in
      this.held.set(seq, Uint8Array.prototype.slice.call(bytes) as Uint8Array);
      return;
    }
    this.out.push(bytes);
    this.nextWrite++;
    this.inflight--;
    if (this.held.size > 0) {
      let next: Uint8Array | undefined;
      while ((next = this.held.get(this.nextWrite)) !== undefined) {
        this.held.delete(this.nextWrite);
        this.out.push(next);
        this.nextWrite++;
        this.inflight--;
      }
    }
  }

  flushOut(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    if (!this.closed) {
      // one write per shard turn; concat also copies bytes out of the shard's frame
      this.socket.write(out.length === 1 ? Buffer.from(out[0]!) : Buffer.concat(out));
      if (!this.pausedForUnsent && this.socket.writableLength > MAX_UNSENT) {
        // the client does not take its answers: stop reading its requests until it does
        this.pausedForUnsent = true;
        this.socket.pause();
      }
    }
    if (this.pausedForInflight && this.inflight < MAX_INFLIGHT / 2) {
      this.pausedForInflight = false;
      this.resumeIfFree();
    }
    if (this.closeAfterFlush && this.inflight === 0) this.socket.end();
  }

  private onDrain(): void {
    if (!this.pausedForUnsent) return;
    this.pausedForUnsent = false;
    this.resumeIfFree();
  }

  private resumeIfFree(): void {
    if (!this.pausedForShards && !this.pausedForInflight && !this.pausedForUnsent && !this.closed) this.socket.resume();
  }

  setShardPause(paused: boolean): void {
    this.pausedForShards = paused;
    if (paused) this.socket.pause();
    else this.resumeIfFree();
  }

  markClosed(): void {
    this.closed = true;
    this.held.clear();
    this.out = [];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isJson(): boolean {
    return this.mode === Mode.Json;
  }
}
