import { asBuffer, shortText } from '../base/bytes.js';
import { errors, type FlashqError } from '../base/errors.js';

/**
 * Protocol Buffers wire primitives for the few flat messages of proto/flashq.proto: a varint
 * reader that yields JS numbers (exact up to 2^53; the low 32 bits for int32), field skipping,
 * the routing scans the front uses instead of a decode, and a reusable writer.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export function malformed(detail: string): FlashqError {
  return errors.badRequest(`Invalid protobuf: ${detail}`);
}

/**
 * A reader cursor over protobuf bytes: `pos` moves as fields are read, `lo` holds the low 32 bits
 * of the last varint. One reader per owner (a decoder, a gRPC front), so reads of different owners
 * can interleave without a per-field allocation.
 */
export class ProtoReader {
  pos = 0;
  /** low 32 bits of the last varint, as a signed int (int32 fields) */
  lo = 0;

  /** Varint at pos; values above 2^53 come back inexact but still above MAX_SAFE_INTEGER. */
  readVarint(b: Uint8Array, end: number): number {
    let p = this.pos;
    if (p >= end) throw malformed('truncated varint');
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      this.lo = byte;
      return byte;
    }
    let lo = byte & 0x7f;
    let value = lo;
    let mul = 128;
    for (let i = 1; i < 10; i++) {
      if (p >= end) throw malformed('truncated varint');
      byte = b[p++]!;
      if (i < 5) lo |= (byte & 0x7f) << (7 * i);
      value += (byte & 0x7f) * mul;
      mul *= 128;
      if (byte < 0x80) {
        this.pos = p;
        this.lo = lo | 0;
        return value;
      }
    }
    throw malformed('varint longer than 10 bytes');
  }

  /** Length of a length-delimited field at pos (checked against the message end). */
  readLength(b: Uint8Array, end: number): number {
    const n = this.readVarint(b, end);
    if (n > end - this.pos) throw malformed('length past the end of the message');
    return n;
  }

  /** Skip the value of a field of wire type `wt` at pos. */
  skipField(b: Uint8Array, end: number, wt: number): void {
    switch (wt) {
      case WIRE_VARINT:
        this.readVarint(b, end);
        return;
      case WIRE_I64:
        if (end - this.pos < 8) throw malformed('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN: {
        // read the length first: `pos += f()` would add to the position before f moved it
        const n = this.readLength(b, end);
        this.pos += n;
        return;
      }
      case WIRE_I32:
        if (end - this.pos < 4) throw malformed('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw malformed(`unsupported wire type ${wt}`);
    }
  }

  // ---------------------------------------------------------- routing scans (front)

  /**
   * Field 1 as a string (the queue of Push/PushBatch/Pull/PullBatch requests), the last occurrence
   * as protobuf merging rules say; "" when absent, null when the message does not parse (the shard
   * then words the error).
   */
  scanQueue(b: Uint8Array, start = 0, end = b.length): string | null {
    let queue = '';
    this.pos = start;
    try {
      while (this.pos < end) {
        const tag = this.readVarint(b, end);
        if (tag === 0x0a) {
          const n = this.readLength(b, end);
          queue = shortText(b, this.pos, this.pos + n);
          this.pos += n;
        } else this.skipField(b, end, tag & 7);
      }
    } catch {
      return null;
    }
    return queue;
  }

  /** Field 1 as an unsigned varint (the id of Ack/Fail/GetState requests, JobResult, Job); 0 when absent or unparsable. */
  scanId(b: Uint8Array, start = 0, end = b.length): number {
    let id = 0;
    this.pos = start;
    try {
      while (this.pos < end) {
        const tag = this.readVarint(b, end);
        if (tag === 0x08) id = this.readVarint(b, end);
        else this.skipField(b, end, tag & 7);
      }
    } catch {
      return 0;
    }
    return id;
  }

  /**
   * A JobResult that only says "done": success set, no result payload. Returns its id, or 0 when it
   * carries more (a result, or a failure) and must go to the shard whole.
   */
  scanPlainSuccess(b: Uint8Array): number {
    let id = 0;
    let success = false;
    const end = b.length;
    this.pos = 0;
    try {
      while (this.pos < end) {
        const tag = this.readVarint(b, end);
        if (tag === 0x08) id = this.readVarint(b, end);
        else if (tag === 0x10) success = this.readVarint(b, end) !== 0;
        else if (tag === 0x1a) {
          if (this.readLength(b, end) > 0) return 0;
        } else this.skipField(b, end, tag & 7);
      }
    } catch {
      return 0;
    }
    return success && id > 0 && id <= Number.MAX_SAFE_INTEGER ? id : 0;
  }

  /**
   * Calls `each(start, end)` for every field-1 length-delimited entry (the Jobs of a
   * PullBatchResponse). Messages come from our own encoder, so a malformed one is a bug: it throws.
   */
  forEachLenField1(b: Uint8Array, each: (start: number, end: number) => void): void {
    const end = b.length;
    this.pos = 0;
    while (this.pos < end) {
      const tag = this.readVarint(b, end);
      if (tag === 0x0a) {
        const n = this.readLength(b, end);
        const s = this.pos;
        this.pos += n;
        each(s, s + n);
        // `each` may scan (and move pos): resume after this entry
        this.pos = s + n;
      } else this.skipField(b, end, tag & 7);
    }
  }

  /** StreamJobsRequest: queue 1, batch_size 2, prefetch 3; null when it does not parse. */
  scanStreamRequest(b: Uint8Array): { queue: string; batchSize: number; prefetch: number } | null {
    const r = { queue: '', batchSize: 0, prefetch: 0 };
    const end = b.length;
    this.pos = 0;
    try {
      while (this.pos < end) {
        const tag = this.readVarint(b, end);
        if (tag === 0x0a) {
          const n = this.readLength(b, end);
          r.queue = shortText(b, this.pos, this.pos + n);
          this.pos += n;
        } else if (tag === 0x10) r.batchSize = this.readVarint(b, end);
        else if (tag === 0x18) r.prefetch = this.readVarint(b, end);
        else this.skipField(b, end, tag & 7);
      }
    } catch {
      return null;
    }
    return r;
  }

  /**
   * AckBatchRequest ids (field 1, packed or not), for splitting across shards; null when the
   * message does not parse or an id is not a positive safe integer (the shard words the error).
   */
  scanIds(b: Uint8Array): number[] | null {
    const ids: number[] = [];
    const end = b.length;
    this.pos = 0;
    try {
      while (this.pos < end) {
        const tag = this.readVarint(b, end);
        if (tag === 0x08) ids.push(this.readVarint(b, end));
        else if (tag === 0x0a) {
          const n = this.readLength(b, end);
          const stop = this.pos + n;
          while (this.pos < stop) ids.push(this.readVarint(b, stop));
        } else this.skipField(b, end, tag & 7);
      }
    } catch {
      return null;
    }
    for (const id of ids) if (id < 1 || id > Number.MAX_SAFE_INTEGER) return null;
    return ids;
  }
}

// ------------------------------------------------------------------------ writer

/**
 * Appends fields to one growing buffer, reused by a thread for every message it encodes
 * (`finish` copies the bytes out). Default values are written only when the caller asks.
 */
export class ProtoWriter {
  buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** A fresh copy of what was written. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A non-negative integer up to 2^53. */
  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (n >= 0x80000000) {
      b[p++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    this.pos = p;
  }

  tag(field: number, wt: number): void {
    this.varint(field * 8 + wt);
  }

  /** uint32/uint64/enum/bool field, skipped when 0 (proto3 default). */
  uint(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  /** int32: negatives are sign-extended to 10 bytes, as the protobuf spec says. */
  int32(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    if (n > 0) this.varint(n);
    else {
      this.ensure(10);
      let lo = n >>> 0;
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < 4; i++) {
        b[p++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      // bits 28..31 of the low word, then the high word's ones
      b[p++] = (lo & 0x0f) | 0x70 | 0x80;
      for (let i = 0; i < 4; i++) b[p++] = 0xff;
      b[p++] = 0x01;
      this.pos = p;
    }
  }

  /** Text as a length-delimited field (present even when empty: optional fields). */
  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    const max = s.length * 3;
    if (max < 128) {
      // one length byte is enough whatever the UTF-8 size: write, then fill it in
      this.ensure(1 + max);
      const at = this.pos;
      const n = this.buf.write(s, at + 1, 'utf8');
      this.buf[at] = n;
      this.pos = at + 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(field: number, v: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Packed repeated varints, skipped when empty. */
  packed(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    this.tag(field, WIRE_LEN);
    const at = this.beginLen();
    for (const v of values) this.varint(v);
    this.endLen(at);
  }

  /**
   * Start a length-delimited body whose size is not known yet: one byte is reserved for the
   * length; endLen moves the body when its length needs more.
   */
  beginLen(): number {
    this.ensure(1);
    return this.pos++;
  }

  endLen(at: number): void {
    const n = this.pos - at - 1;
    if (n < 128) {
      this.buf[at] = n;
      return;
    }
    let extra = 0;
    for (let v = n >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, at + 1 + extra, at + 1, this.pos);
    let p = at;
    let v = n;
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos += extra;
  }
}

/** Buffer view of a Uint8Array (no copy). */
export const viewOf = asBuffer;
