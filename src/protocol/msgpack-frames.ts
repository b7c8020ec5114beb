import { PAYLOAD_LIMIT } from '../base/errors.js';

/** Longest accepted frame body: a full payload plus room for the other fields. */
export const DEFAULT_MAX_FRAME = PAYLOAD_LIMIT + 64 * 1024;

export interface FrameSink {
  /**
   * One frame body (a MessagePack map), without its length prefix. A slice of a pushed chunk
   * (zero copy) or of a buffer filled once for a frame that spanned chunks; never written again.
   */
  frame(buf: Buffer, start: number, end: number): void;
  /**
   * A frame announced longer than maxFrame. The splitter is dead afterwards (a binary stream cannot
   * resynchronise): the caller answers `Payload too large` and closes the connection.
   */
  oversize(size: number): void;
}

/** Incremental 4-byte big-endian length-prefixed framing for one connection. */
export class FrameSplitter {
  private readonly header = Buffer.alloc(4);
  private headerLen = 0;
  /** body of a frame that spans chunks, filled in place */
  private body: Buffer | null = null;
  private bodyFill = 0;
  private isDead = false;

  constructor(readonly maxFrame: number = DEFAULT_MAX_FRAME) {}

  get dead(): boolean {
    return this.isDead;
  }

  /** Bytes held for an unfinished frame. */
  get buffered(): number {
    return this.body !== null ? this.bodyFill + 4 : this.headerLen;
  }

  push(chunk: Buffer, sink: FrameSink): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.isDead) {
      const body = this.body;
      if (body !== null) {
        const take = Math.min(n - pos, body.length - this.bodyFill);
        chunk.copy(body, this.bodyFill, pos, pos + take);
        this.bodyFill += take;
        pos += take;
        if (this.bodyFill === body.length) {
          this.body = null;
          sink.frame(body, 0, body.length);
        }
        continue;
      }
      let len: number;
      if (this.headerLen === 0 && n - pos >= 4) {
        len = chunk.readUInt32BE(pos);
        pos += 4;
      } else {
        while (this.headerLen < 4 && pos < n) this.header[this.headerLen++] = chunk[pos++]!;
        if (this.headerLen < 4) return;
        this.headerLen = 0;
        len = this.header.readUInt32BE(0);
      }
      if (len > this.maxFrame) {
        this.isDead = true;
        sink.oversize(len);
        return;
      }
      if (n - pos >= len) {
        sink.frame(chunk, pos, pos + len);
        pos += len;
      } else {
        this.body = Buffer.allocUnsafe(len);
        this.bodyFill = 0;
      }
    }
  }
}

/** Length-prefix an answer: 4-byte big-endian length, then the bytes. */
export function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}
