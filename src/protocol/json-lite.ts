import { asBuffer, bytesEqual, shortText, utf8Text } from '../base/bytes.js';
import { JOB_FIELDS } from './commands.js';
import type { Obj } from './fields.js';
import { JsonValidator, validNumber } from './json-validate.js';
import { skipWs } from './json-walk.js';
import type { RawJsonSource } from './payload-text.js';

/**
 * A PUSH or PUSHB line parsed without materialising job data. JSON.parse of a 1000-job line builds every
 * data object only for the garbage collector: here each `data` is validated in place and its span
 * recorded, and the only values built are the fields the decoder reads (cmd, queue, reqId and the
 * jobs' scalar fields). The object returned goes through the same command decoder as a JSON.parse
 * result, so validation and error texts are shared.
 *
 * It handles the ordinary case only and returns null for anything else (not PUSH/PUSHB, invalid JSON,
 * an escaped key, a known field holding an object, raw line breaks in a data value…); the caller
 * then takes the JSON.parse path, which gives the answer (or the exact error) for those.
 * Duplicate keys keep the last occurrence, as JSON.parse does.
 */

/** thrown inside to leave the parse; never escapes this module */
const BAIL = Symbol('bail');

const JOB_KEYS: ReadonlySet<string> = new Set<string>(JOB_FIELDS);

function bail(): never {
  throw BAIL;
}

/**
 * The keys this parser looks at, by length: a key that spells one of them is returned as that
 * constant instead of a new string (one allocation and a native call per job and key saved).
 */
const KNOWN_KEYS: string[][] = [];
for (const k of ['cmd', 'queue', 'reqId', 'jobs', 'data', ...JOB_KEYS]) (KNOWN_KEYS[k.length] ??= []).push(k);

const EMPTY = new Uint8Array(0);

/**
 * One parser per decoder: the cursor and the request being built are its fields, so parses by
 * different decoders can interleave. Not reentrant on itself (a parse calls no user code).
 */
export class PushLiteParser {
  private b: Uint8Array = EMPTY;
  private end = 0;
  /** index after the value read by the last stringAt/keyAt/numberAt/simpleAt/skipAt */
  private next = 0;
  private source: RawJsonSource | null = null;
  private job: Obj = {};
  private jobIndex = 0;
  private top: Obj = {};
  private readonly valid = new JsonValidator();

  /**
   * The PUSH/PUSHB request object of bytes[0, bytes.length) with `data: true` standing for each job's
   * data, whose spans are recorded in `raw` (pointed at these bytes); null when this parser does not
   * handle the line.
   */
  parse(bytes: Buffer, raw: RawJsonSource): Obj | null {
    this.b = bytes;
    this.end = bytes.length;
    this.source = raw;
    this.top = {};
    try {
      const i = skipWs(bytes, this.members(skipWs(bytes, 0, this.end), true), this.end);
      if (i !== this.end) return null;
      const top = this.top;
      if (top.cmd === 'PUSHB' ? top.jobs === undefined : top.cmd !== 'PUSH' || top.data === undefined) return null;
      return top;
    } catch (e) {
      if (e === BAIL) return null;
      throw e;
    } finally {
      this.b = EMPTY;
      this.source = null;
      this.top = this.job = {};
    }
  }

  /** i at `"`: the string's value (escapes decoded by JSON.parse of the token, the rare path). */
  private stringAt(i: number): string {
    const b = this.b;
    const end = this.end;
    let k = i + 1;
    let plain = true;
    while (k < end) {
      const c = b[k]!;
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) {
        plain = false;
        break;
      }
      k++;
    }
    if (plain && k < end) {
      this.next = k + 1;
      return shortText(b, i + 1, k);
    }
    const e = this.valid.validString(b, i, end);
    if (e < 0) bail();
    this.next = e;
    return JSON.parse(utf8Text(asBuffer(b), i, e)) as string;
  }

  private knownKey(start: number, stop: number): string | null {
    const candidates = KNOWN_KEYS[stop - start];
    if (candidates === undefined) return null;
    for (const k of candidates) if (bytesEqual(this.b, start, stop, k)) return k;
    return null;
  }

  /** A key without escapes, as a string; anything else bails. */
  private keyAt(i: number): string {
    const b = this.b;
    const end = this.end;
    if (b[i] !== 0x22) bail();
    let k = i + 1;
    while (k < end && b[k] !== 0x22) {
      if (b[k] === 0x5c || b[k]! < 0x20) bail();
      k++;
    }
    if (k >= end) bail();
    this.next = k + 1;
    return this.knownKey(i + 1, k) ?? shortText(b, i + 1, k);
  }

  private numberAt(i: number): number {
    const b = this.b;
    const e = validNumber(b, i, this.end);
    if (e < 0) bail();
    this.next = e;
    // plain integers of up to 15 digits are exact in a double: no string needed
    if (e - i <= 15) {
      let v = 0;
      let k = b[i] === 0x2d ? i + 1 : i;
      for (; k < e; k++) {
        const c = b[k]!;
        if (c < 0x30 || c > 0x39) return Number(shortText(b, i, e));
        v = v * 10 + (c - 0x30);
      }
      return b[i] === 0x2d ? -v : v;
    }
    return Number(shortText(b, i, e));
  }

  /** A scalar or an array of scalars (the shapes of the fields read here); containers bail. */
  private simpleAt(i: number): unknown {
    const b = this.b;
    const end = this.end;
    const c = b[i];
    if (c === 0x22) return this.stringAt(i);
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.numberAt(i);
    if (c === 0x5b) {
      const list: unknown[] = [];
      i = skipWs(b, i + 1, end);
      if (b[i] === 0x5d) {
        this.next = i + 1;
        return list;
      }
      for (;;) {
        const d = b[i];
        if (d === 0x5b || d === 0x7b) bail();
        list.push(this.simpleAt(i));
        i = skipWs(b, this.next, end);
        if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
        else if (b[i] === 0x5d) {
          this.next = i + 1;
          return list;
        } else bail();
      }
    }
    if (c === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
      this.next = i + 4;
      return true;
    }
    if (c === 0x66 && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
      this.next = i + 5;
      return false;
    }
    if (c === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
      this.next = i + 4;
      return null;
    }
    return bail();
  }

  private skipAt(i: number): void {
    const e = this.valid.validValue(this.b, i, this.end);
    if (e < 0) bail();
    this.next = e;
  }

  /**
   * Walk the members of the object at i (its `{`), handing each to onTopMember (isTop) or
   * onJobMember, which must set `next` past the value. Returns the index after the closing brace.
   */
  private members(i: number, isTop: boolean): number {
    const b = this.b;
    const end = this.end;
    if (b[i] !== 0x7b) bail();
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x7d) return i + 1;
    for (;;) {
      const key = this.keyAt(i);
      i = skipWs(b, this.next, end);
      if (b[i] !== 0x3a) bail();
      const at = skipWs(b, i + 1, end);
      if (isTop) this.onTopMember(key, at);
      else this.onJobMember(key, at);
      i = skipWs(b, this.next, end);
      if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
      else if (b[i] === 0x7d) return i + 1;
      else bail();
    }
  }

  private onJobMember(key: string, at: number): void {
    if (key === 'data') {
      this.skipAt(at);
      // a pretty-printed value must be re-serialised: leave it to the JSON.parse path
      if (this.valid.newline) bail();
      this.source!.setJobSpan(this.jobIndex, at, this.next, this.valid.ascii);
      this.job.data = true;
    } else if (JOB_KEYS.has(key)) this.job[key] = this.simpleAt(at);
    else this.skipAt(at);
  }

  private jobsAt(i: number): Obj[] {
    const b = this.b;
    const end = this.end;
    const source = this.source!;
    if (b[i] !== 0x5b) bail();
    const jobs: Obj[] = [];
    source.presetSpans();
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x5d) {
      this.next = i + 1;
      return jobs;
    }
    for (;;) {
      const job: Obj = (this.job = {});
      this.jobIndex = jobs.length;
      source.setJobSpan(this.jobIndex, -1, -1);
      i = skipWs(b, this.members(i, false), end);
      jobs.push(job);
      if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
      else if (b[i] === 0x5d) {
        this.next = i + 1;
        return jobs;
      } else bail();
    }
  }

  private onTopMember(key: string, at: number): void {
    const top = this.top;
    switch (key) {
      case 'cmd':
        top.cmd = this.simpleAt(at);
        if (top.cmd !== 'PUSHB' && top.cmd !== 'PUSH') bail();
        return;
      case 'queue':
      case 'reqId':
        top[key] = this.simpleAt(at);
        return;
      case 'jobs':
        top.jobs = this.jobsAt(at);
        return;
      case 'data':
        // PUSH carries its job at the top level; for PUSHB a stray `data` is skipped the same way
        this.skipAt(at);
        if (this.valid.newline) bail();
        this.source!.setTopSpan(at, this.next, this.valid.ascii);
        top.data = true;
        return;
      default:
        if (JOB_KEYS.has(key)) top[key] = this.simpleAt(at);
        else this.skipAt(at);
    }
  }
}
