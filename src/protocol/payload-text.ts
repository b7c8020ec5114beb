import { latin1Text, utf8Text } from '../base/bytes.js';
import { errors, FlashqError, PAYLOAD_LIMIT } from '../base/errors.js';
import { fieldName, invalidField } from './fields.js';
import { JsonWalk, keyBytes, MEMBER_MALFORMED, MEMBER_UNSURE, skipWs } from './json-walk.js';

/**
 * Where a job's `data` (or an ack `result`, a cron's `data`) JSON text comes from. The engine
 * stores payloads as JSON text, so the decoder needs text, not the parsed value; how it gets it
 * depends on the wire format. Every source enforces the payload limit on the text's UTF-8 size.
 */
export interface PayloadSource {
  /**
   * JSON text of `value`, which the request holds at `key` of the payload object (index < 0) or at
   * `key` of its index-th job.
   */
  text(value: unknown, key: string, index: number): string;
  /** JSON text of the whole payload object (an incoming webhook's body is the job's data). */
  rootText(value: unknown): string;
  /**
   * The index-th job's `data` as a span instead of a string, when the source can give one (plain
   * ASCII JSON): the request's bytes, copied once per request, with the span in blockStart and
   * blockEnd; null otherwise (then use text()).
   */
  block?(index: number): Buffer | null;
  readonly blockStart?: number;
  readonly blockEnd?: number;
}

function tooLarge(bytes: number, limit: number, key: string, index: number): FlashqError {
  const e = errors.payloadTooLarge(bytes, limit);
  // the catalogue text first, then where (compat.md: detail may follow the document's words)
  return index < 0 ? e : new FlashqError(e.code, `${e.message} at ${fieldName(key, index)}`);
}

/**
 * JSON.stringify of the decoded value: for MessagePack (whose values have no JSON text) and as
 * the fallback of RawJsonSource. Values JSON cannot hold are mapped the way JSON.stringify maps
 * them (NaN → null, a Date → its ISO string, a byte string → {"type":"Buffer","data":[…]});
 * a BigInt is refused.
 */
export class StringifySource implements PayloadSource {
  constructor(private readonly limit: number = PAYLOAD_LIMIT) {}

  text(value: unknown, key: string, index: number): string {
    let s: string | undefined;
    try {
      s = JSON.stringify(value);
    } catch {
      throw invalidField(key, index, 'not representable as JSON');
    }
    if (s === undefined) throw invalidField(key, index, 'not representable as JSON');
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need an exact count
    if (s.length * 3 > this.limit) {
      const bytes = Buffer.byteLength(s, 'utf8');
      if (bytes > this.limit) throw tooLarge(bytes, this.limit, key, index);
    }
    return s;
  }

  rootText(value: unknown): string {
    return this.text(value, 'body', -1);
  }
}

const JOBS = keyBytes('jobs');
const DATA = keyBytes('data');
const KEYS: Record<string, Uint8Array | undefined> = { data: DATA, result: keyBytes('result') };

/**
 * Slices the payload's text out of request bytes already validated (by JSON.parse, or by json-lite)
 * (a value's span in valid JSON is valid JSON). Sizes are then byte counts before any string is
 * made, and each text is a fresh string decoded from its own bytes (not a slice of the line's
 * string, which would keep the whole line alive as long as any of its jobs).
 *
 * Falls back to JSON.stringify of the parsed value when the span cannot be found exactly (keys
 * written with escapes) or when it has raw line breaks between tokens (pretty-printed HTTP
 * bodies): stored text must stay one line, since TCP answers embed it in JSON lines.
 */
/** span flags */
const NEWLINE = 1;
const ASCII = 2;

export class RawJsonSource implements PayloadSource {
  private buf: Buffer = Buffer.alloc(0);
  private objStart = 0;
  private objEnd = 0;
  private jobsIsRoot = false;
  private located = false;
  /** span of a top-level `data` given by json-lite (single PUSH); -1 = locate it here */
  private topStart = -1;
  private topEnd = -1;
  private topAscii = false;
  /** this request's bytes [objStart, objEnd), copied on first block() */
  private copy: Buffer | null = null;
  blockStart = 0;
  blockEnd = 0;
  /** per job: data start, data end, flags (NEWLINE, ASCII); start -1 = use the fallback */
  private spans = new Int32Array(3 * 1024);
  private count = 0;
  private readonly fallback: StringifySource;
  private readonly walk = new JsonWalk();

  constructor(private readonly limit: number = PAYLOAD_LIMIT) {
    this.fallback = new StringifySource(limit);
  }

  /**
   * Point at a request: the payload object is buf[objStart, objEnd) (the line itself for TCP, the
   * body for HTTP); jobsIsRoot when that object is the jobs array itself (an HTTP batch body).
   */
  reset(buf: Buffer, objStart: number, objEnd: number, jobsIsRoot: boolean): this {
    this.buf = buf;
    this.objStart = skipWs(buf, objStart, objEnd);
    this.objEnd = objEnd;
    this.jobsIsRoot = jobsIsRoot;
    this.located = false;
    this.topStart = this.topEnd = -1;
    this.copy = null;
    return this;
  }

  /** The jobs' data spans are given by the caller (json-lite) rather than located here. */
  presetSpans(): void {
    this.located = true;
    this.count = 0;
  }

  /** The top-level `data` span (single PUSH), found by the caller (json-lite). */
  setTopSpan(start: number, end: number, ascii = false): void {
    this.topStart = start;
    this.topEnd = end;
    this.topAscii = ascii;
  }

  /** `ascii`: the span is known to hold only ASCII bytes (its text is then copied, not decoded). */
  setJobSpan(index: number, start: number, end: number, ascii = false): void {
    const at = 3 * index;
    if (at + 3 > this.spans.length) this.growSpans();
    this.spans[at] = start;
    this.spans[at + 1] = end;
    this.spans[at + 2] = ascii ? ASCII : 0;
    this.count = index + 1;
  }

  text(value: unknown, key: string, index: number): string {
    if (index < 0) {
      if (key === 'data' && this.topStart >= 0) return this.slice(this.topStart, this.topEnd, this.topAscii ? ASCII : 0, value, key, index);
      const k = KEYS[key];
      const s = k === undefined ? MEMBER_UNSURE : this.walk.findMember(this.buf, this.objStart, this.objEnd, k);
      return this.slice(s, this.walk.valueEnd, this.walk.newline ? NEWLINE : 0, value, key, index);
    }
    if (!this.located) this.locate();
    if (index >= this.count) return this.fallback.text(value, key, index);
    const at = 3 * index;
    return this.slice(this.spans[at]!, this.spans[at + 1]!, this.spans[at + 2]!, value, key, index);
  }

  block(index: number): Buffer | null {
    if (index < 0) return null;
    if (!this.located) this.locate();
    if (index >= this.count) return null;
    const at = 3 * index;
    const s = this.spans[at]!;
    const e = this.spans[at + 1]!;
    if (s < 0 || e < s || this.spans[at + 2] !== ASCII) return null;
    if (e - s > this.limit) throw tooLarge(e - s, this.limit, 'data', index);
    let copy = this.copy;
    if (copy === null) {
      // its own exact-size memory: the request's bytes may be a ring's (reused) or a pooled slab
      copy = this.copy = Buffer.allocUnsafeSlow(this.objEnd - this.objStart);
      this.buf.copy(copy, 0, this.objStart, this.objEnd);
    }
    this.blockStart = s - this.objStart;
    this.blockEnd = e - this.objStart;
    return copy;
  }

  rootText(value: unknown): string {
    const s = this.objStart;
    this.walk.newline = false;
    const e = this.walk.skipValue(this.buf, s, this.objEnd);
    return this.slice(s, e, this.walk.newline ? NEWLINE : 0, value, 'body', -1);
  }

  private slice(s: number, e: number, flags: number, value: unknown, key: string, index: number): string {
    if (s < 0 || e < s || (flags & NEWLINE) !== 0) return this.fallback.text(value, key, index);
    if (e - s > this.limit) throw tooLarge(e - s, this.limit, key, index);
    return (flags & ASCII) !== 0 ? latin1Text(this.buf, s, e) : utf8Text(this.buf, s, e);
  }

  private growSpans(): void {
    const grown = new Int32Array(this.spans.length * 2);
    grown.set(this.spans);
    this.spans = grown;
  }

  /** One walk over the jobs array recording every job's data span. */
  private locate(): void {
    this.located = true;
    this.count = 0;
    const b = this.buf;
    const end = this.objEnd;
    let i: number;
    if (this.jobsIsRoot) i = this.objStart;
    else {
      i = this.walk.findMember(b, this.objStart, end, JOBS);
      if (i < 0) return;
    }
    if (b[i] !== 0x5b) return;
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x5d) return;
    let n = 0;
    while (i < end) {
      if (3 * n + 3 > this.spans.length) this.growSpans();
      const at = 3 * n;
      if (b[i] === 0x7b) {
        const ds = this.walk.findMember(b, i, end, DATA);
        this.spans[at] = ds;
        this.spans[at + 1] = this.walk.valueEnd;
        this.spans[at + 2] = this.walk.newline ? NEWLINE : 0;
        i = ds === MEMBER_MALFORMED ? -1 : this.walk.objectEnd;
      } else {
        this.spans[at] = -1;
        i = this.walk.skipValue(b, i, end);
      }
      if (i < 0) return;
      n++;
      i = skipWs(b, i, end);
      if (b[i] === 0x2c) {
        i = skipWs(b, i + 1, end);
        continue;
      }
      if (b[i] === 0x5d) this.count = n;
      return;
    }
  }
}
