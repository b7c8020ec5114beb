import type { HttpResponse, RecognizedString } from 'uWebSockets.js';
import type { AnswerSink, Dispatcher } from '../dispatcher.js';
import { Kind } from '../../ring/kinds.js';
import { Format } from '../../protocol/result.js';
import { ErrorCode, type FlashqError } from '../../base/errors.js';
import { log } from '../../log.js';
import type { ConnectionLimit } from '../limits.js';
import type { Cors } from './cors.js';
import { asFlashqError, errorEnvelope, JSON_TYPE, okEnvelope, statusLine, statusOf } from './envelope.js';

/** Requests that have not been answered yet, so a stop can let them finish first. */
export class InFlight {
  private count = 0;
  private idle: (() => void) | null = null;

  /**
   * @param limit each request in flight counts as one connection of MAX_CONNECTIONS
   * @param bodyTimeoutMs how long a request body may stay silent (IDLE_TIMEOUT_MS)
   */
  constructor(
    readonly limit: ConnectionLimit | null = null,
    readonly bodyTimeoutMs = 30_000,
  ) {}

  enter(): void {
    this.count++;
    this.limit?.acquire();
  }

  leave(): void {
    this.limit?.release();
    if (--this.count === 0 && this.idle) {
      const done = this.idle;
      this.idle = null;
      done();
    }
  }

  /** Resolves once nothing is in flight, or after `ms` at most. */
  drained(ms: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idle = null;
        resolve();
      }, ms);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * One HTTP request/response. uWS forbids touching a response after it was aborted and requires an
 * abort handler before any asynchronous work, so this registers one at once and guards every
 * write. It is also the answer sink of the shard request it makes (no per-request closure).
 */
export class Exchange implements AnswerSink {
  aborted = false;
  done = false;
  /** connection id while a shard request is out */
  conn = 0;
  /** the shard a blocking request waits on, told when the client goes away */
  waitShard = -1;

  constructor(
    readonly res: HttpResponse,
    readonly inflight: InFlight,
    private readonly dispatcher: Dispatcher,
    private readonly cors: Cors,
    /** Access-Control-Allow-Origin of this answer (read from the request up front) */
    private readonly origin: string | null,
  ) {
    inflight.enter();
    res.onAborted(() => {
      this.aborted = true;
      if (this.conn !== 0) {
        if (this.waitShard >= 0) this.dispatcher.connClosed(this.conn, [this.waitShard]);
        else this.dispatcher.releaseConn(this.conn);
        this.conn = 0;
      }
      this.finish();
    });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.inflight.leave();
  }

  /**
   * Write a whole response. `close` asks the client to drop the connection (unread body left);
   * `headers` are added as they are (names and values plain ASCII).
   */
  send(status: number, body: RecognizedString, contentType: string = JSON_TYPE, close = false, headers?: Record<string, string>): void {
    if (this.aborted || this.done) return;
    this.finish();
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      this.cors.write(res, this.origin);
      if (headers !== undefined) {
        for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
        // a page of another origin reads only the headers it is told it may
        if (this.origin !== null) res.writeHeader('Access-Control-Expose-Headers', Object.keys(headers).join(', '));
      }
      res.writeHeader('Content-Type', contentType).end(body, close);
    });
  }

  ok(dataJson: string, headers?: Record<string, string>): void {
    this.send(200, okEnvelope(dataJson), JSON_TYPE, false, headers);
  }

  /** An envelope already rendered by the protocol encoder. */
  okBytes(bytes: Uint8Array | string): void {
    this.send(200, bytes);
  }

  error(e: unknown, close = false): void {
    const err: FlashqError = asFlashqError(e);
    if (err.code === ErrorCode.Internal) log.error('http request failed', { error: err.message });
    this.send(statusOf(err.code), errorEnvelope(err.message), JSON_TYPE, close);
  }

  /** Send a request wrapper to a shard; the answer comes back through `deliver`. */
  ask(shard: number, wrapper: Uint8Array, blocking = false): void {
    if (this.aborted) return;
    this.conn = this.dispatcher.allocConn(this);
    if (blocking) this.waitShard = shard;
    this.dispatcher.send(shard, Kind.REQUEST, Format.Http, this.conn, 0, wrapper);
  }

  /** A shard's answer: `code` 0 = ok, else the ErrorCode that sets the status; bytes are the envelope. */
  answer(code: number, bytes: Uint8Array): void {
    this.send(statusOf(code), bytes);
  }

  deliver(_seq: number, code: number, bytes: Uint8Array): void {
    if (this.conn !== 0) this.dispatcher.releaseConn(this.conn);
    this.conn = 0;
    // the bytes are a view into the shard's frame: uWS copies them before end() returns
    this.answer(code, bytes);
  }

  flushOut(): void {}
}
