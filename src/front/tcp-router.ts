import { unpack } from 'msgpackr';
import { LineSplitter, type LineSink } from '../protocol/json-lines.js';
import { FrameSplitter, type FrameSink } from '../protocol/msgpack-frames.js';
import { RouteScanner, type Route as RouteScan } from '../protocol/route-scan.js';
import { AnswerEncoder } from '../protocol/encode.js';
import { errors, FlashqError } from '../base/errors.js';
import { Format, type Result } from '../protocol/result.js';
import { FANOUT_COMMANDS, type Request } from '../protocol/request.js';
import type { Auth } from './auth.js';
import type { Dispatcher } from './dispatcher.js';
import type { Fanout } from './fanout.js';
import type { ShardRouter } from './shard-router.js';
import type { Splitter, TcpConnection } from './tcp-connection.js';

/** Commands whose `queue` names the owning shard. */
const BY_QUEUE: ReadonlySet<string> = new Set([
  'PUSH', 'PUSHB', 'PULL', 'PULLB', 'DLQ', 'RETRYDLQ', 'RATELIMIT', 'RATELIMITCLEAR', 'SETCONCURRENCY',
  'CLEARCONCURRENCY', 'PAUSE', 'RESUME',
]);
/** Commands whose `id` names the owning shard (ids encode their partition). */
const BY_ID: ReadonlySet<string> = new Set(['ACK', 'FAIL', 'CANCEL', 'PROGRESS', 'GETPROGRESS', 'GETJOB', 'GETSTATE', 'GETRESULT']);

type Obj = Record<string, unknown>;

/**
 * Routes TCP requests (JSON lines or MessagePack frames) without parsing payloads: a scan of the
 * top-level `cmd`/`queue`/`id` picks the shard and the raw bytes go there. Only rare commands
 * (AUTH, fan-outs, ACKB across shards, CRON) are parsed here.
 */
export class TcpRouter {
  readonly shards: number;
  /** renders the answers the front makes itself (AUTH, errors found before routing) */
  readonly encoder = new AnswerEncoder();
  private readonly scanner = new RouteScanner();

  constructor(
    readonly dispatcher: Dispatcher,
    private readonly shardRouter: ShardRouter,
    private readonly fanout: Fanout,
    private readonly auth: Auth,
    private readonly maxBatch: number,
  ) {
    this.shards = shardRouter.shards;
  }

  /** A splitter bound to a connection, chosen by the framing it opened with. */
  splitterFor(conn: TcpConnection): Splitter {
    if (conn.isJson) {
      const lines = new LineSplitter();
      const sink: LineSink = {
        line: (buf, start, end) => this.route(conn, this.scanner.scanJson(buf, start, end), buf, start, end),
        oversize: (size) => conn.oversize(size),
      };
      return {
        push: (chunk) => lines.push(chunk, sink),
        get midRequest() {
          return lines.midLine;
        },
      };
    }
    const frames = new FrameSplitter();
    const sink: FrameSink = {
      frame: (buf, start, end) => this.route(conn, this.scanner.scanMsgpack(buf, start, end), buf, start, end),
      oversize: (size) => conn.oversize(size),
    };
    return {
      push: (chunk) => frames.push(chunk, sink),
      get midRequest() {
        return frames.buffered > 0;
      },
    };
  }

  private parse(conn: TcpConnection, buf: Buffer, start: number, end: number): Obj | null {
    try {
      const v: unknown = conn.isJson ? JSON.parse(buf.toString('utf8', start, end)) : unpack(buf.subarray(start, end));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
    } catch {
      return null;
    }
  }

  private route(conn: TcpConnection, scan: RouteScan, buf: Buffer, start: number, end: number): void {
    const seq = conn.nextSlot();
    const cmd = scan.cmd;
    if (cmd === 'AUTH') {
      const req = this.parse(conn, buf, start, end);
      const reqId = reqIdOf(req);
      if (this.auth.check(req?.token)) {
        conn.authed = true;
        conn.answerNow(seq, null, this.encoder.answer(conn.format, OK_REQUEST, OK, reqId));
      } else {
        conn.authed = !this.auth.enabled;
        conn.authFailed(seq, reqId);
      }
      return;
    }
    if (!conn.authed) {
      conn.answerNow(seq, errors.authRequired(), undefined, reqIdOf(this.parse(conn, buf, start, end)));
      return;
    }
    const payload = buf.subarray(start, end);
    if (cmd !== null && BY_QUEUE.has(cmd)) {
      conn.send(scan.queue !== null ? this.shardRouter.shardOfQueue(scan.queue) : 0, seq, payload);
    } else if (cmd !== null && BY_ID.has(cmd)) {
      conn.send(scan.id > 0 ? this.shardRouter.shardOfId(scan.id) : 0, seq, payload);
    } else if (cmd === null) {
      conn.send(0, seq, payload); // unroutable: shard 0 words the error (invalid JSON, missing cmd)
    } else if (FANOUT_COMMANDS.has(cmd)) {
      // always merged on the front, which also owns the rates METRICS reports
      this.answerLater(conn, seq, null, this.fanout.run(Uint8Array.prototype.slice.call(buf, start, end) as Uint8Array, conn.format));
    } else if (this.shardRouter.single) {
      conn.send(0, seq, payload);
    } else if (cmd === 'ACKB') {
      this.ackBatch(conn, seq, buf, start, end);
    } else if (cmd === 'CRON') {
      this.cron(conn, seq, scan, payload);
    } else if (cmd === 'CRONDELETE') {
      const req = this.parse(conn, buf, start, end);
      this.answerLater(conn, seq, reqIdOf(req), this.fanout.cronDelete(payload, conn.format));
    } else {
      conn.send(0, seq, payload);
    }
  }

  private answerLater(conn: TcpConnection, seq: number, reqId: string | number | null, p: Promise<{ code: number; bytes: Uint8Array }>): void {
    p.then(
      ({ code, bytes }) => {
        if (!conn.isClosed) {
          conn.deliver(seq, code, bytes);
          conn.flushOut();
        }
      },
      (e: unknown) => {
        if (!conn.isClosed) conn.answerNow(seq, e instanceof FlashqError ? e : errors.internal(String(e)), undefined, reqId);
      },
    );
  }

  /** ACKB whose ids live on several shards: split, ask each, answer the sum. */
  private ackBatch(conn: TcpConnection, seq: number, buf: Buffer, start: number, end: number): void {
    const req = this.parse(conn, buf, start, end);
    const ids = req?.ids;
    const route = this.shardRouter.ackBatchRoute(Array.isArray(ids) ? ids : null, this.maxBatch);
    if (typeof route === 'number') {
      conn.send(route, seq, buf.subarray(start, end));
      return;
    }
    const reqId = reqIdOf(req);
    this.answerLater(conn, seq, reqId, this.fanout.ackSplit(route, conn.format, reqId));
  }

  private cron(conn: TcpConnection, seq: number, scan: RouteScan, payload: Buffer): void {
    const target = scan.queue !== null ? this.shardRouter.shardOfQueue(scan.queue) : 0;
    this.answerLater(conn, seq, null, this.fanout.cronCreate(target, conn.format, Uint8Array.prototype.slice.call(payload) as Uint8Array, scan.name, scan.queue));
  }
}

export function reqIdOf(req: Obj | null): string | number | null {
  const r = req?.reqId;
  return typeof r === 'string' || typeof r === 'number' ? r : null;
}

/** a bare `ok` answer, rendered like any command's that has no members */
const OK_REQUEST: Request = { cmd: 'PAUSE', queue: '' };
const OK: Result = { kind: 'ok' };
