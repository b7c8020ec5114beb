import { utf8Write } from '../../base/bytes.js';

/**
 * The wire of the internal link between nodes. A stream of records, each
 * `u32 LE body length | u8 type | body`, written one turn's worth at a time (one socket write per
 * turn per peer). Fixed fields first, the variable bytes (payload, answer, event JSON) last, so a
 * reader hands out views into the received chunk and copies nothing.
 */
export const enum Rec {
  /** origin → owner: `u8 kind | u8 format | u16 target | u32 conn | u32 seq | payload` */
  REQUEST = 1,
  /** origin → owner: a client connection closed (same layout as REQUEST, empty payload) */
  CONN_CLOSED = 2,
  /** owner → origin: `u16 code | u32 conn | u32 seq | answer bytes` */
  ANSWER = 3,
  /** owner → origin: `u8 type | u32 queue start | u32 queue end | event JSON` (queue span relative to the JSON) */
  EVENT = 4,
  /** origin → owner: `u8 on`: stream this node's events to me (1) or stop (0) */
  SUBSCRIBE = 5,
  /** origin → owner, first: `u8 version | u8 flags | 32 B nonce | u8 len | origin id | u8 len | expected owner id` */
  HELLO = 6,
  /** owner → origin: `u8 version | u8 flags | 32 B nonce | u8 len | owner id | proof (0 or 32 B)` */
  WELCOME = 7,
  /** origin → owner: `proof (0 or 32 B)` */
  PROOF = 8,
  /** either way, before closing on a protocol error: `reason (UTF-8)` */
  GOODBYE = 9,
  /**
   * origin → owner: a connection ended without failing anything back (an HTTP request, a gRPC
   * unary call, a fan-out question were answered): the owner forgets it, its leases stay
   * (same layout as REQUEST, empty payload)
   */
  CONN_RELEASED = 10,
}

export const VERSION = 1;
/** HELLO/WELCOME flag: this end has a CLUSTER_SECRET and will prove it */
export const FLAG_SECRET = 1;
export const NONCE_BYTES = 32;
/** target of a request the owner answers as a whole node (STATS merged over its shards) */
export const NODE_WIDE = 0xffff;
/** a record's body may not exceed this unless the link is told otherwise (answers of big PULLBs fit) */
export const DEFAULT_MAX_RECORD = 64 * 1024 * 1024;
/** until the handshake ends a record may not exceed this: an unauthenticated peer gets no big buffers */
export const HANDSHAKE_MAX_RECORD = 1024;

/** bytes before a REQUEST's payload: length, type, kind, format, target, conn, seq */
export const REQUEST_HEAD = 4 + 1 + 1 + 1 + 2 + 4 + 4;
/** bytes before an ANSWER's bytes: length, type, code, conn, seq */
export const ANSWER_HEAD = 4 + 1 + 2 + 4 + 4;
/** bytes before an EVENT's JSON: length, type, event type, queue start, queue end */
export const EVENT_HEAD = 4 + 1 + 1 + 4 + 4;

/** Where a reader sends what it decoded; views are valid until `endChunk` returns. */
export interface RecordSink {
  /** REQUEST, CONN_CLOSED or CONN_RELEASED; the payload is buf[start, end) */
  request(type: Rec, kind: number, format: number, target: number, conn: number, seq: number, buf: Buffer, start: number, end: number): void;
  answer(conn: number, seq: number, code: number, buf: Buffer, start: number, end: number): void;
  /** qs/qe are absolute offsets in buf */
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void;
  /** the rare records (SUBSCRIBE, HELLO, WELCOME, PROOF, GOODBYE); the body is buf[start, end) */
  control(type: Rec, buf: Buffer, start: number, end: number): void;
  /** a record announced `size` bytes, over the limit, or was malformed: the stream is dead */
  corrupt(reason: string): void;
  /** everything of one received chunk was handed out */
  endChunk(): void;
}

/**
 * Appends records to one growing buffer; `take` hands the turn's bytes out (a copy, so the
 * buffer is reused) and starts the next turn.
 */
export class RecordWriter {
  private buf: Buffer;
  private len = 0;
  records = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** REQUEST, CONN_CLOSED or CONN_RELEASED; returns the record's body size (the caller checks it against its limit) */
  request(type: Rec, kind: number, format: number, target: number, conn: number, seq: number, payload: Uint8Array | string): number {
    const max = typeof payload === 'string' ? payload.length * 3 : payload.length;
    this.room(REQUEST_HEAD + max);
    const b = this.buf;
    const at = this.len;
    let n: number;
    if (typeof payload === 'string') n = utf8Write(b, payload, at + REQUEST_HEAD);
    else {
      b.set(payload, at + REQUEST_HEAD);
      n = payload.length;
    }
    const body = REQUEST_HEAD - 4 + n;
    b.writeUInt32LE(body, at);
    b[at + 4] = type;
    b[at + 5] = kind;
    b[at + 6] = format;
    b.writeUInt16LE(target, at + 7);
    b.writeUInt32LE(conn >>> 0, at + 9);
    b.writeUInt32LE(seq >>> 0, at + 13);
    this.len = at + REQUEST_HEAD + n;
    this.records++;
    return body;
  }

  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void {
    this.room(ANSWER_HEAD + bytes.length);
    const b = this.buf;
    const at = this.len;
    b.writeUInt32LE(ANSWER_HEAD - 4 + bytes.length, at);
    b[at + 4] = Rec.ANSWER;
    b.writeUInt16LE(code, at + 5);
    b.writeUInt32LE(conn >>> 0, at + 7);
    b.writeUInt32LE(seq >>> 0, at + 11);
    b.set(bytes, at + ANSWER_HEAD);
    this.len = at + ANSWER_HEAD + bytes.length;
    this.records++;
  }

  /** an event whose JSON is src[start, end) and whose queue name is src[qs, qe) */
  event(type: number, src: Uint8Array, start: number, end: number, qs: number, qe: number): void {
    const n = end - start;
    this.room(EVENT_HEAD + n);
    const b = this.buf;
    const at = this.len;
    b.writeUInt32LE(EVENT_HEAD - 4 + n, at);
    b[at + 4] = Rec.EVENT;
    b[at + 5] = type;
    b.writeUInt32LE(qs - start, at + 6);
    b.writeUInt32LE(qe - start, at + 10);
    b.set(src.subarray(start, end), at + EVENT_HEAD);
    this.len = at + EVENT_HEAD + n;
    this.records++;
  }

  /** a rare record whose body is `parts` concatenated */
  control(type: Rec, ...parts: Uint8Array[]): void {
    let n = 0;
    for (const p of parts) n += p.length;
    this.room(5 + n);
    const at = this.len;
    this.buf.writeUInt32LE(1 + n, at);
    this.buf[at + 4] = type;
    let o = at + 5;
    for (const p of parts) {
      this.buf.set(p, o);
      o += p.length;
    }
    this.len = o;
    this.records++;
  }

  /** the turn's bytes (a copy) and an empty writer; null when nothing was written */
  take(): Buffer | null {
    if (this.len === 0) return null;
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    this.records = 0;
    return out;
  }

  /** forget the turn (the link dropped) */
  reset(): void {
    this.len = 0;
    this.records = 0;
  }
}

const MIN_BODY: Partial<Record<number, number>> = {
  [Rec.REQUEST]: REQUEST_HEAD - 4,
  [Rec.CONN_CLOSED]: REQUEST_HEAD - 4,
  [Rec.CONN_RELEASED]: REQUEST_HEAD - 4,
  [Rec.ANSWER]: ANSWER_HEAD - 4,
  [Rec.EVENT]: EVENT_HEAD - 4,
  [Rec.SUBSCRIBE]: 2,
  [Rec.HELLO]: 1 + 2 + NONCE_BYTES + 2,
  [Rec.WELCOME]: 1 + 2 + NONCE_BYTES + 1,
  [Rec.PROOF]: 1,
  [Rec.GOODBYE]: 1,
};

/**
 * Splits a byte stream into records. A record inside one chunk is handed out as a view into it;
 * one that spans chunks is gathered into a buffer of its exact size (allocated once its length is
 * known, so a big record costs one copy, not one per chunk).
 */
export class RecordReader {
  /** the length prefix of a record cut inside it */
  private readonly head = Buffer.alloc(4);
  private headLen = 0;
  /** the body of a record that spans chunks, and how much of it arrived */
  private body: Buffer | null = null;
  private bodyLen = 0;
  private dead = false;

  /** raised from HANDSHAKE_MAX_RECORD to the link's limit once the peer is authenticated */
  constructor(public maxRecord: number = DEFAULT_MAX_RECORD) {}

  push(chunk: Buffer, sink: RecordSink): void {
    if (this.dead) return;
    let pos = 0;
    const end = chunk.length;
    if (this.headLen > 0 || this.body !== null) {
      pos = this.resume(chunk, sink);
      if (pos < 0) return this.finish(sink);
    }
    while (pos < end && !this.dead) {
      if (end - pos < 4) {
        chunk.copy(this.head, 0, pos, end);
        this.headLen = end - pos;
        break;
      }
      const size = chunk.readUInt32LE(pos);
      if (!this.sizeOk(size, sink)) break;
      if (end - pos - 4 >= size) {
        this.record(chunk, pos + 4, pos + 4 + size, sink);
        pos += 4 + size;
      } else {
        this.body = Buffer.allocUnsafe(size);
        this.bodyLen = end - pos - 4;
        chunk.copy(this.body, 0, pos + 4, end);
        break;
      }
    }
    this.finish(sink);
  }

  private finish(sink: RecordSink): void {
    if (!this.dead) sink.endChunk();
  }

  /** continue a cut record with the new chunk; the position after it, or -1 if the chunk ended first */
  private resume(chunk: Buffer, sink: RecordSink): number {
    let pos = 0;
    if (this.body === null) {
      const need = 4 - this.headLen;
      const got = Math.min(need, chunk.length);
      chunk.copy(this.head, this.headLen, 0, got);
      this.headLen += got;
      pos = got;
      if (this.headLen < 4) return -1;
      this.headLen = 0;
      const size = this.head.readUInt32LE(0);
      if (!this.sizeOk(size, sink)) return -1;
      this.body = Buffer.allocUnsafe(size);
      this.bodyLen = 0;
    }
    const body = this.body;
    const got = Math.min(body.length - this.bodyLen, chunk.length - pos);
    chunk.copy(body, this.bodyLen, pos, pos + got);
    this.bodyLen += got;
    pos += got;
    if (this.bodyLen < body.length) return -1;
    this.body = null;
    this.record(body, 0, body.length, sink);
    return this.dead ? -1 : pos;
  }

  private sizeOk(size: number, sink: RecordSink): boolean {
    if (size > this.maxRecord) {
      this.fail(sink, `record of ${size} bytes over the link's limit of ${this.maxRecord}`);
      return false;
    }
    if (size < 1) {
      this.fail(sink, 'empty record');
      return false;
    }
    return true;
  }

  private fail(sink: RecordSink, reason: string): void {
    this.dead = true;
    this.body = null;
    sink.corrupt(reason);
  }

  /** one whole record: body buf[s, e), its first byte the type */
  private record(buf: Buffer, s: number, e: number, sink: RecordSink): void {
    const type = buf[s]!;
    const min = MIN_BODY[type];
    if (min === undefined) return this.fail(sink, `unknown record type ${type}`);
    if (e - s < min) return this.fail(sink, `record type ${type} of ${e - s} bytes is shorter than its fields`);
    switch (type) {
      case Rec.REQUEST:
      case Rec.CONN_CLOSED:
      case Rec.CONN_RELEASED:
        sink.request(type, buf[s + 1]!, buf[s + 2]!, buf.readUInt16LE(s + 3), buf.readUInt32LE(s + 5), buf.readUInt32LE(s + 9), buf, s + 13, e);
        return;
      case Rec.ANSWER:
        sink.answer(buf.readUInt32LE(s + 3), buf.readUInt32LE(s + 7), buf.readUInt16LE(s + 1), buf, s + 11, e);
        return;
      case Rec.EVENT: {
        const js = s + 10;
        const qs = buf.readUInt32LE(s + 2);
        const qe = buf.readUInt32LE(s + 6);
        if (qs > qe || js + qe > e) return this.fail(sink, 'event queue span outside its JSON');
        sink.event(buf[s + 1]!, buf, js, e, js + qs, js + qe);
        return;
      }
      default:
        sink.control(type as Rec, buf, s + 1, e);
    }
  }
}
