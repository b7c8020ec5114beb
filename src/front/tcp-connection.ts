import type { Socket } from 'node:net';
import { Kind } from '../ring/kinds.js';
import { Format } from '../protocol/result.js';
import { errors, type FlashqError } from '../base/errors.js';
import { encodeError } from '../protocol/encode.js';
import type { AnswerSink } from './dispatch.js';
import type { RequestRouter } from './request-router.js';

/** Answers buffered out of order per connection before the socket is paused. */
const MAX_INFLIGHT = 32_768;

const enum Mode {
  Unknown = 0,
  Json = 1,
  Msgpack = 2,
}

/**
 * One client connection (TCP or Unix socket): detects the framing on the first byte, splits
 * requests, lets the RequestRouter send them to shards, and writes answers strictly in request
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
  /** binary framing cannot resynchronise after an oversized frame: close once answered */
  private closeAfterFlush = false;
  private split: ((chunk: Buffer) => void) | null = null;

  constructor(
    readonly socket: Socket,
    private readonly router: RequestRouter,
    authRequired: boolean,
  ) {
    this.authed = !authRequired;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  get format(): Format {
    return this.mode === Mode.Msgpack ? Format.TcpMsgpack : Format.TcpJson;
  }

  get pending(): number {
    return this.inflight;
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.closeAfterFlush) return;
    if (this.mode === Mode.Unknown) {
      const b = chunk[0]!;
      // every accepted length prefix starts with 0x00 (frames are far below 16 MiB); anything else is
      // JSON lines, so a client whose first line is not an object still gets `Invalid JSON`
      this.mode = b === 0x00 ? Mode.Msgpack : Mode.Json;
    }
    (this.split ??= this.router.splitterFor(this))(chunk);
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
    this.deliver(seq, err ? err.code : 0, err ? encodeError(this.format, err, reqId) : bytes!);
    this.flushOut();
  }

  oversize(bytes: number): void {
    const seq = this.nextSlot();
    if (this.mode === Mode.Msgpack) this.closeAfterFlush = true;
    this.answerNow(seq, errors.payloadTooLarge(bytes));
  }

  send(shard: number, seq: number, payload: Uint8Array | string): void {
    this.touched.add(shard);
    this.router.dispatcher.send(shard, Kind.REQUEST, this.format, this.id, seq, payload);
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
    }
    if (this.pausedForInflight && this.inflight < MAX_INFLIGHT / 2) {
      this.pausedForInflight = false;
      if (!this.pausedForShards) this.socket.resume();
    }
    if (this.closeAfterFlush && this.inflight === 0) this.socket.end();
  }

  setShardPause(paused: boolean): void {
    this.pausedForShards = paused;
    if (paused) this.socket.pause();
    else if (!this.pausedForInflight) this.socket.resume();
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
