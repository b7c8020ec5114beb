import { PAYLOAD_LIMIT } from '../base/errors.js';

/** Longest accepted line (without its `\n`): a full payload plus room for the other fields. */
export const DEFAULT_MAX_LINE = PAYLOAD_LIMIT + 64 * 1024;

export interface LineSink {
  /**
   * One complete line, whitespace-trimmed (so `\r\n` endings vanish), never empty. The view is a
   * slice of a chunk that was pushed (zero copy) or of a buffer assembled once for a line that
   * spanned chunks; the splitter never writes into either, so the caller may keep it.
   */
  line(buf: Buffer, start: number, end: number): void;
  /**
   * A line longer than maxLine, reported where it is detected, in order with the other lines.
   * `size` is how many of its bytes had arrived by then; the rest up to the next `\n` is dropped.
   */
  oversize(size: number): void;
}

/** Incremental JSON-lines framing for one connection. */
export class LineSplitter {
  /** pieces of an unfinished line, concatenated once when its `\n` arrives */
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** inside an oversize line: drop everything up to the next `\n` */
  private discarding = false;

  constructor(readonly maxLine: number = DEFAULT_MAX_LINE) {}

  /** Bytes held for an unfinished line. */
  get buffered(): number {
    return this.partsLen;
  }

  push(chunk: Buffer, sink: LineSink): void {
    const n = chunk.length;
    let pos = 0;
    if (this.discarding) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return;
      this.discarding = false;
      pos = nl + 1;
    } else if (this.partsLen > 0) {
      const nl = chunk.indexOf(0x0a);
      const total = this.partsLen + (nl < 0 ? n : nl);
      if (total > this.maxLine) {
        this.drop();
        sink.oversize(total);
        if (nl < 0) {
          this.discarding = true;
          return;
        }
      } else if (nl < 0) {
        this.parts.push(chunk);
        this.partsLen = total;
        return;
      } else {
        this.parts.push(chunk.subarray(0, nl));
        const line = Buffer.concat(this.parts, total);
        this.drop();
        emit(line, 0, total, sink);
      }
      pos = nl + 1;
    }
    while (pos < n) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) {
        const rest = n - pos;
        if (rest > this.maxLine) {
          sink.oversize(rest);
          this.discarding = true;
        } else {
          this.parts.push(pos === 0 ? chunk : chunk.subarray(pos));
          this.partsLen = rest;
        }
        return;
      }
      if (nl - pos > this.maxLine) sink.oversize(nl - pos);
      else emit(chunk, pos, nl, sink);
      pos = nl + 1;
    }
  }

  /** Forget any partial line (connection reset). */
  reset(): void {
    this.drop();
    this.discarding = false;
  }

  private drop(): void {
    this.parts.length = 0;
    this.partsLen = 0;
  }
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0d || c === 0x09 || c === 0x0a;
}

function emit(buf: Buffer, start: number, end: number, sink: LineSink): void {
  while (start < end && isWs(buf[start]!)) start++;
  while (end > start && isWs(buf[end - 1]!)) end--;
  if (start < end) sink.line(buf, start, end);
}
