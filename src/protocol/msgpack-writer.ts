import { utf8Write } from '../base/bytes.js';
import { errors } from '../base/errors.js';

/**
 * Writes MessagePack answers directly, framed (4-byte length first). Answers carry job payloads
 * as JSON text; packing them through msgpackr meant JSON.parse into objects and then a generic
 * walk of those objects, twice the cost of the JSON answer (native-bench/codec.ts). Here the JSON
 * text is transcoded straight into MessagePack, and the answers' fixed keys are pre-encoded.
 *
 * Encodings follow msgpackr's `pack` so clients see what a msgpackr peer would send: integers that
 * fit 32 bits as ints, other numbers as float64 (msgpackr's unpack turns 64-bit ints into BigInt),
 * objects as map16.
 */

const INITIAL = 64 * 1024;
const KEEP_AT_MOST = 8 * 1024 * 1024;

/** A key (or any constant string) pre-encoded as a MessagePack str. */
export function constStr(s: string): Uint8Array {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length >= 32) throw new Error(`constStr: ${s} is too long`);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = 0xa0 | bytes.length;
  out.set(bytes, 1);
  return out;
}

const OBJ = 1;
const ARR = 2;

export class MsgpackWriter {
  private buf: Buffer;
  private pos = 0;
  /** the JSON text being transcoded, as UTF-8 */
  private src: Buffer;
  // transcoder container stack: kind, header position, element count
  private kinds = new Uint8Array(32);
  private heads = new Int32Array(32);
  private counts = new Int32Array(32);

  /** `initial`: scratch bytes to start with (a writer kept for many answers wants the default). */
  constructor(initial = INITIAL) {
    this.buf = Buffer.allocUnsafe(initial);
    this.src = Buffer.allocUnsafe(initial);
  }

  /** Start a framed answer (room for the length prefix). */
  begin(): this {
    this.pos = 4;
    return this;
  }

  /** The framed bytes since begin(), in a buffer of their own. */
  finish(): Buffer {
    this.buf.writeUInt32BE(this.pos - 4, 0);
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    if (this.buf.length > KEEP_AT_MOST) this.buf = Buffer.allocUnsafe(INITIAL);
    if (this.src.length > KEEP_AT_MOST) this.src = Buffer.allocUnsafe(INITIAL);
    return out;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  raw(bytes: Uint8Array): this {
    const n = bytes.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
    this.pos = p;
    return this;
  }

  nil(): this {
    this.room(1);
    this.buf[this.pos++] = 0xc0;
    return this;
  }

  bool(v: boolean): this {
    this.room(1);
    this.buf[this.pos++] = v ? 0xc3 : 0xc2;
    return this;
  }

  num(v: number): this {
    this.room(9);
    const b = this.buf;
    let p = this.pos;
    if (v >>> 0 === v) {
      if (v < 0x80) b[p++] = v;
      else if (v < 0x100) {
        b[p++] = 0xcc;
        b[p++] = v;
      } else if (v < 0x10000) {
        b[p++] = 0xcd;
        b[p++] = v >> 8;
        b[p++] = v & 0xff;
      } else {
        b[p++] = 0xce;
        b.writeUInt32BE(v, p);
        p += 4;
      }
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[p++] = 0x100 + v;
      else if (v >= -0x80) {
        b[p++] = 0xd0;
        b[p++] = v + 0x100;
      } else if (v >= -0x8000) {
        b[p++] = 0xd1;
        b.writeInt16BE(v, p);
        p += 2;
      } else {
        b[p++] = 0xd2;
        b.writeInt32BE(v, p);
        p += 4;
      }
    } else {
      b[p++] = 0xcb;
      b.writeDoubleBE(v, p);
      p += 8;
    }
    this.pos = p;
    return this;
  }

  numOrNil(v: number | null): this {
    return v === null ? this.nil() : this.num(v);
  }

  private strHeader(n: number): void {
    const b = this.buf;
    if (n < 32) b[this.pos++] = 0xa0 | n;
    else if (n < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xda;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  str(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.room(n + 5);
    this.strHeader(n);
    this.pos += utf8Write(this.buf, s, this.pos);
    return this;
  }

  strOrNil(s: string | null): this {
    return s === null ? this.nil() : this.str(s);
  }

  private lengthHeader(fix: number, h16: number, n: number): void {
    this.room(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = fix | n;
    else if (n < 0x10000) {
      b[this.pos++] = h16;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = h16 + 1;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  map(n: number): this {
    this.lengthHeader(0x80, 0xde, n);
    return this;
  }

  array(n: number): this {
    this.lengthHeader(0x90, 0xdc, n);
    return this;
  }

  /** A JSON text (valid JSON, as every stored payload is) as the MessagePack of its value. */
  json(text: string): this {
    let src = this.src;
    if (text.length * 3 > src.length) {
      const need = Buffer.byteLength(text, 'utf8');
      if (need > src.length) src = this.src = Buffer.allocUnsafe(Math.max(need, src.length * 2));
    }
    const end = utf8Write(src, text, 0);
    if (!this.transcode(src, end)) throw errors.internal('stored payload is not valid JSON');
    return this;
  }

  private push(depth: number, kind: number): void {
    if (depth === this.kinds.length) {
      const n = depth * 2;
      const kinds = new Uint8Array(n);
      const heads = new Int32Array(n);
      const counts = new Int32Array(n);
      kinds.set(this.kinds);
      heads.set(this.heads);
      counts.set(this.counts);
      this.kinds = kinds;
      this.heads = heads;
      this.counts = counts;
    }
    this.kinds[depth] = kind;
    this.heads[depth] = this.pos;
    this.counts[depth] = 0;
    // map16/array16 placeholder, patched (or widened) when the container closes
    this.room(3);
    this.pos += 3;
  }

  private close(depth: number): void {
    const head = this.heads[depth]!;
    const n = this.counts[depth]!;
    const b = this.buf;
    const isObj = this.kinds[depth] === OBJ;
    if (n < 0x10000) {
      b[head] = isObj ? 0xde : 0xdc;
      b.writeUInt16BE(n, head + 1);
    } else {
      this.room(2);
      this.buf.copyWithin(head + 5, head + 3, this.pos);
      this.pos += 2;
      this.buf[head] = isObj ? 0xdf : 0xdd;
      this.buf.writeUInt32BE(n, head + 1);
    }
  }

  /** Transcode src[0, end); false when it is not the JSON it should be. */
  private transcode(s: Buffer, end: number): boolean {
    let i = 0;
    let depth = 0;
    for (;;) {
      i = ws(s, i, end);
      if (i >= end) return false;
      const c = s[i]!;
      // a value starts at i
      if (c === 0x7b || c === 0x5b) {
        this.push(depth, c === 0x7b ? OBJ : ARR);
        depth++;
        i = ws(s, i + 1, end);
        if (s[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          this.close(--depth);
          i++;
        } else {
          if (c === 0x7b) {
            i = this.key(s, i, end);
            if (i < 0) return false;
          }
          continue;
        }
      } else if (c === 0x22) {
        i = this.string(s, i, end);
        if (i < 0) return false;
      } else if (c === 0x74) {
        this.bool(true);
        i += 4;
      } else if (c === 0x66) {
        this.bool(false);
        i += 5;
      } else if (c === 0x6e) {
        this.nil();
        i += 4;
      } else {
        i = this.number(s, i, end);
        if (i < 0) return false;
      }
      // after a value: count it, close finished containers
      for (;;) {
        if (depth === 0) return ws(s, i, end) === end;
        this.counts[depth - 1] += 1;
        i = ws(s, i, end);
        const d = s[i];
        if (d === 0x2c) {
          i = ws(s, i + 1, end);
          if (this.kinds[depth - 1] === OBJ) {
            i = this.key(s, i, end);
            if (i < 0) return false;
          }
          break;
        }
        if (d !== 0x7d && d !== 0x5d) return false;
        this.close(--depth);
        i++;
        // the closed container is itself a value of its parent: loop to count it
      }
    }
  }

  /** i at a member's key: writes the key, returns where its value starts. */
  private key(s: Buffer, i: number, end: number): number {
    if (s[i] !== 0x22) return -1;
    i = this.string(s, i, end);
    if (i < 0) return -1;
    i = ws(s, i, end);
    return s[i] === 0x3a ? ws(s, i + 1, end) : -1;
  }

  private string(s: Buffer, i: number, end: number): number {
    let k = i + 1;
    let escaped = false;
    while (k < end) {
      const c = s[k]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        k += 2;
      } else k++;
    }
    if (k >= end) return -1;
    if (escaped) {
      this.str(JSON.parse(s.toString('utf8', i, k + 1)) as string);
      return k + 1;
    }
    // an escape-free JSON string is its own UTF-8: copy it
    const n = k - i - 1;
    this.room(n + 5);
    this.strHeader(n);
    // Buffer#copy costs more than a short loop: payload strings are mostly short
    const b = this.buf;
    let p = this.pos;
    if (n <= 64) for (let q = i + 1; q < k; q++) b[p++] = s[q]!;
    else {
      b.set(s.subarray(i + 1, k), p);
      p += n;
    }
    this.pos = p;
    return k + 1;
  }

  private number(s: Buffer, i: number, end: number): number {
    let k = i;
    let v = 0;
    let plain = true;
    const neg = s[k] === 0x2d;
    if (neg) k++;
    for (; k < end; k++) {
      const c = s[k]!;
      if (c >= 0x30 && c <= 0x39) v = v * 10 + (c - 0x30);
      else if (c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) plain = false;
      else break;
    }
    if (k === i) return -1;
    this.num(plain && k - i <= 15 ? (neg ? -v : v) : Number(s.toString('latin1', i, k)));
    return k;
  }
}

function ws(s: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = s[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return i;
}
