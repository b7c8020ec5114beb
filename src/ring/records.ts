/**
 * Records inside a ring frame. A frame is a batch of records laid end to end, no frame header:
 *
 *   kind u8 | format u8 | code u16 | conn u32 | seq u32 | len u32 | payload[len]     (little-endian)
 *
 * Headers are written and read byte by byte: no DataView per frame, no alignment demands on the
 * payload, and the same code for Buffers and SharedArrayBuffer views. Integers wrap to their
 * width (conn/seq mod 2^32, code mod 2^16), as the fields are identifiers, never arithmetic.
 */

export const RECORD_HEADER_BYTES = 16;

const EMPTY = Buffer.alloc(0);

/**
 * Builds one frame in a reusable, growable buffer. The view from `finish()` is valid until the
 * next `add`/`addHeader`/`appendPayload`/`reset` (a growth moves the bytes).
 */
export class FrameBuilder {
  private buf: Buffer;
  private pos = 0;
  /** Offset of the record `appendPayload` extends; -1 when none is open. */
  private open = -1;
  private n = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(64, initialBytes));
  }

  /** Records added since the last reset. */
  get count(): number {
    return this.n;
  }

  get byteLength(): number {
    return this.pos;
  }

  /** One whole record. Strings go into the buffer as UTF-8 directly, with no interim copy. */
  add(kind: number, format: number, code: number, conn: number, seq: number, payload: Uint8Array | string): void {
    const p = this.pos;
    let len: number;
    if (typeof payload === 'string') {
      // UTF-8 needs at most 3 bytes per UTF-16 unit; measure exactly only when that bound does not fit.
      if (this.buf.length - p < RECORD_HEADER_BYTES + payload.length * 3) {
        this.ensure(RECORD_HEADER_BYTES + Buffer.byteLength(payload, 'utf8'));
      }
      len = payload.length === 0 ? 0 : this.buf.write(payload, p + RECORD_HEADER_BYTES, 'utf8');
    } else {
      len = payload.length;
      this.ensure(RECORD_HEADER_BYTES + len);
      this.buf.set(payload, p + RECORD_HEADER_BYTES);
    }
    writeHeader(this.buf, p, kind, format, code, conn, seq, len);
    this.open = p;
    this.pos = p + RECORD_HEADER_BYTES + len;
    this.n++;
  }

  /** Start a record with an empty payload; extend it with `appendPayload`. */
  addHeader(kind: number, format: number, code: number, conn: number, seq: number): void {
    this.ensure(RECORD_HEADER_BYTES);
    writeHeader(this.buf, this.pos, kind, format, code, conn, seq, 0);
    this.open = this.pos;
    this.pos += RECORD_HEADER_BYTES;
    this.n++;
  }

  /** Append bytes or UTF-8 text to the payload of the last record added. */
  appendPayload(payload: Uint8Array | string): void {
    const rec = this.open;
    if (rec < 0) throw new Error('appendPayload without a record (call addHeader first)');
    let p = this.pos;
    if (typeof payload === 'string') {
      if (this.buf.length - p < payload.length * 3) this.ensure(Buffer.byteLength(payload, 'utf8'));
      if (payload.length !== 0) p += this.buf.write(payload, p, 'utf8');
    } else {
      this.ensure(payload.length);
      this.buf.set(payload, p);
      p += payload.length;
    }
    this.pos = p;
    writeU32(this.buf, rec + 12, p - rec - RECORD_HEADER_BYTES);
  }

  /** The frame built so far, as a view into the builder's buffer. */
  finish(): Uint8Array {
    this.open = -1;
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.n = 0;
    this.open = -1;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/**
 * Walks the records of one frame without allocating per record: the header fields are plain
 * properties overwritten by each `next()`, the payload is `bytes[start, end)`.
 */
export class FrameReader {
  kind = 0;
  format = 0;
  code = 0;
  conn = 0;
  seq = 0;
  /** Payload bounds in `bytes` for the current record. */
  start = 0;
  end = 0;
  /** The whole frame as a Buffer view (shares memory with the frame given to `reset`). */
  bytes: Buffer = EMPTY;
  private pos = 0;

  reset(frame: Uint8Array): this {
    this.bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    this.pos = 0;
    this.start = this.end = 0;
    return this;
  }

  /** Advance to the next record; false at the end of the frame. Throws on a truncated frame. */
  next(): boolean {
    const b = this.bytes;
    const p = this.pos;
    const limit = b.length;
    if (p >= limit) return false;
    if (limit - p < RECORD_HEADER_BYTES) throw new RangeError(`truncated record header at ${p} of ${limit}`);
    const len = readU32(b, p + 12);
    if (len > limit - p - RECORD_HEADER_BYTES) throw new RangeError(`record at ${p} claims ${len} bytes, frame has ${limit - p - RECORD_HEADER_BYTES}`);
    this.kind = b[p]!;
    this.format = b[p + 1]!;
    this.code = b[p + 2]! | (b[p + 3]! << 8);
    this.conn = readU32(b, p + 4);
    this.seq = readU32(b, p + 8);
    this.start = p + RECORD_HEADER_BYTES;
    this.end = this.start + len;
    this.pos = this.end;
    return true;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The current payload as a view (shares memory with the frame: copy what must outlive it). */
  payload(): Buffer {
    return this.bytes.subarray(this.start, this.end);
  }

  /** The current payload decoded as UTF-8. */
  text(): string {
    return this.bytes.toString('utf8', this.start, this.end);
  }
}

function writeHeader(b: Buffer, p: number, kind: number, format: number, code: number, conn: number, seq: number, len: number): void {
  b[p] = kind;
  b[p + 1] = format;
  b[p + 2] = code;
  b[p + 3] = code >>> 8;
  writeU32(b, p + 4, conn);
  writeU32(b, p + 8, seq);
  writeU32(b, p + 12, len);
}

function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
