import { pack } from 'msgpackr';

/**
 * Generators of hostile requests for the fuzz suite, driven by a seeded PRNG so a failing run can
 * be replayed. Nothing here names the queue `fuzz-keep` or an id below 10^12: the jobs the suite
 * pushes before fuzzing must survive it untouched.
 */
export type Rand = () => number;

/** Commands that cannot block: PULL/PULLB without a timeout would wait, by design, for a job. */
const COMMANDS = [
  'PUSH', 'PUSHB', 'ACK', 'ACKB', 'FAIL', 'CANCEL', 'PROGRESS', 'GETPROGRESS', 'GETJOB', 'GETSTATE', 'GETRESULT', 'DLQ',
  'RETRYDLQ', 'RATELIMIT', 'RATELIMITCLEAR', 'SETCONCURRENCY', 'CLEARCONCURRENCY', 'PAUSE', 'RESUME', 'LISTQUEUES',
  'CRON', 'CRONDELETE', 'CRONLIST', 'STATS', 'METRICS', 'JOBS', 'AUTH', 'NOPE', '', 'push', 'PUSH\u0000', 'ÄCK',
];
const KEYS = ['cmd', 'queue', 'data', 'id', 'ids', 'jobs', 'priority', 'delay', 'ttl', 'timeout', 'max_attempts', 'backoff',
  'unique_key', 'depends_on', 'tags', 'lifo', 'limit', 'count', 'progress', 'message', 'result', 'error', 'name',
  'schedule', 'state', 'offset', 'reqId', 'token', '__proto__', 'constructor'];

export class Hostile {
  constructor(private readonly r: Rand) {}

  int(n: number): number {
    return Math.floor(this.r() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  queue(): unknown {
    return this.pick<unknown>(['fz', 'fz-2', 'a'.repeat(this.int(300)), '', 'bad name', 'q/../x', 'ü', 42, null, ['fz'], { q: 1 }, 'fz\u0000x']);
  }

  /** Ids that never reach the kept jobs: huge, negative, fractional, wrong types. */
  id(): unknown {
    return this.pick<unknown>([1e12 + this.int(1e6), -1, 0, 1.5, 2 ** 53, 2 ** 64, 1e308, '123', null, true, [], {}, Number.MAX_SAFE_INTEGER]);
  }

  number(): unknown {
    return this.pick<unknown>([0, -0, 1, -1, 2 ** 31, 2 ** 32, 2 ** 53 + 1, 1e21, 1e308, -1e308, 5e-324, 0.1, this.int(1e9) - 5e8, '7', null]);
  }

  /** A value of any type, nested up to `depth`. */
  value(depth = 3): unknown {
    switch (this.int(depth > 0 ? 9 : 6)) {
      case 0: return this.number();
      case 1: return 'x'.repeat(this.int(64));
      case 2: return this.pick([true, false, null]);
      case 3: return this.id();
      case 4: return this.queue();
      case 5: return '\u0000\uffff\ud800'.slice(0, this.int(4));
      case 6: return Array.from({ length: this.int(5) }, () => this.value(depth - 1));
      case 7: return this.object(depth - 1);
      default: return { [this.pick(KEYS)]: this.value(depth - 1) };
    }
  }

  object(depth = 2): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = this.int(6); i > 0; i--) o[this.pick(KEYS)] = this.value(depth);
    return o;
  }

  /** A request with a real command and random, often wrong, fields. */
  command(): Record<string, unknown> {
    const o = this.object(2);
    o.cmd = this.pick(COMMANDS);
    if (this.r() < 0.5) o.queue = this.queue();
    if (o.id !== undefined || this.r() < 0.3) o.id = this.id();
    if (Array.isArray(o.ids)) o.ids = (o.ids as unknown[]).map(() => this.id());
    if (o.cmd === 'PUSHB' && this.r() < 0.5) o.jobs = Array.from({ length: this.int(5) }, () => this.object(1));
    return o;
  }

  /** Nested arrays or objects far deeper than any parser's comfort. */
  deep(): string {
    const depth = 1000 + this.int(20_000);
    const open = this.r() < 0.5 ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    const inner = open.repeat(depth) + '1' + close.repeat(this.r() < 0.2 ? depth - 1 : depth);
    return this.pick([`{"cmd":"PUSH","queue":"fz","data":${inner}}`, inner, `{"cmd":"STATS","x":${inner}}`]);
  }

  /** One JSON line (without its newline): a valid-looking command, mangled text, or bytes. */
  jsonLine(): Buffer {
    const kind = this.int(10);
    let text: string;
    if (kind <= 3) text = JSON.stringify(this.command());
    else if (kind === 4) text = this.r() < 0.2 ? this.deep() : JSON.stringify(this.command());
    else if (kind === 5) {
      const full = JSON.stringify(this.command());
      text = full.slice(0, Math.max(1, this.int(full.length))); // truncated
    } else if (kind === 6) {
      text = JSON.stringify(this.command()).replace(/:(\d+)/, ':' + this.pick(['1e999', '-1e999', '123456789012345678901234567890', 'NaN', 'Infinity', '0x10', '01']));
    } else if (kind === 7) {
      // invalid UTF-8 and NUL bytes inside a string, or anywhere
      const head = Buffer.from(`{"cmd":"PUSH","queue":"fz","data":"`);
      const junk = Buffer.from(Array.from({ length: 1 + this.int(40) }, () => this.pick([0x00, 0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xff, 0xed, 0xa0, 0xe2, 0x28])));
      return this.r() < 0.5 ? Buffer.concat([head, junk, Buffer.from('"}')]) : Buffer.concat([junk, head]);
    } else if (kind === 8) {
      return this.bytes(1 + this.int(200));
    } else {
      text = this.pick(['{}', '[]', 'null', '"PUSH"', '{"cmd":null}', '{"cmd":"PUSH"', '}{', '{"cmd":"PUSH","queue":"fz","data":1,"data":2}', '{"cmd":"STATS"} trailing', ' {"cmd":"STATS"}']);
    }
    return Buffer.from(text);
  }

  /** Random bytes without a newline (a newline would split it into lines we did not count). */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      const v = this.int(256);
      b[i] = v === 0x0a ? 0x0b : v;
    }
    if (b[0] === 0x20 || b[0] === 0x09 || b[0] === 0x0d) b[0] = 0x7b;
    return b;
  }

  /** One well-framed MessagePack request whose body is hostile (its length prefix tells the truth). */
  msgpackFrame(): Buffer {
    let body: Buffer;
    const kind = this.int(6);
    if (kind <= 2) body = pack(this.command());
    else if (kind === 3) {
      const full = pack(this.command());
      body = full.subarray(0, Math.max(1, this.int(full.length)));
    } else if (kind === 4) body = this.bytes(1 + this.int(100));
    else body = pack(this.pick<unknown>([null, 1, 'PUSH', [1, 2], { cmd: 1 }, Buffer.from('cmd'), new Array(100).fill({ cmd: 'PUSH' })]));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    return Buffer.concat([head, body]);
  }

  /** How a MessagePack connection ends: cleanly, mid-frame (a prefix that lies), or oversized. */
  msgpackEnding(): Buffer {
    const head = Buffer.alloc(4);
    switch (this.int(4)) {
      case 0:
        return Buffer.alloc(0);
      case 1:
        head.writeUInt32BE(1000 + this.int(1000)); // promises more than will come
        return Buffer.concat([head, this.bytes(10)]);
      case 2:
        head.writeUInt32BE(0xffffffff); // far over the frame limit
        return Buffer.concat([head, this.bytes(10)]);
      default:
        return Buffer.from([0, 0]); // half a length prefix
    }
  }

  /** An HTTP request for fetch: method, path and body, all possibly wrong. */
  http(): { method: string; path: string; body?: Buffer | string; headers: Record<string, string> } {
    const method = this.pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS']);
    const q = encodeURIComponent(String(this.pick<unknown>(['fz', 'fz-2', 'bad name', 'a'.repeat(300), '%', '..', 'ü'])));
    const id = this.pick(['1000000000000', '-1', '0', 'abc', '99999999999999999999', '1.5', '%zz']);
    const path = this.pick([
      `/queues/${q}/jobs?timeout=0`, `/queues/${q}/jobs?count=${this.pick(['-1', 'x', '1e9', '5'])}&timeout=0`, `/jobs/${id}`, `/jobs/${id}/ack`,
      `/jobs/${id}/fail`, `/jobs/${id}/progress`, `/jobs/${id}/result`, `/queues/${q}/pause`, `/queues/${q}/resume`,
      `/queues/${q}/dlq`, `/queues/${q}/rate-limit`, `/queues/${q}/concurrency`, `/crons/${q}`, '/crons', '/stats', '/metrics',
      '/queues', `/jobs?state=${this.pick(['waiting', 'nope', ''])}&limit=${this.pick(['10', '-5', 'x'])}`, '/webhooks',
      '/workers', '/workers/heartbeat', `/webhooks/incoming/${q}`, '/%', '/a/b/c/d', '/health', '/metrics/history', '/nope',
    ]);
    const headers: Record<string, string> = { 'content-type': this.pick(['application/json', 'text/plain', 'application/x-msgpack']) };
    if (method === 'GET' || method === 'OPTIONS') return { method, path, headers };
    const body = this.pick<() => Buffer | string>([
      () => JSON.stringify(this.object(2)),
      () => JSON.stringify({ data: this.value(3), priority: this.number(), delay: this.number(), url: this.pick(['http://169.254.169.254/', 'ftp://x', 'http://127.0.0.1:1/']), events: this.value(1) }),
      () => (this.r() < 0.2 ? this.deep() : JSON.stringify(this.value(3))),
      () => this.jsonLine(),
      () => this.bytes(1 + this.int(300)),
      () => '',
    ])();
    return { method, path, body, headers };
  }
}
