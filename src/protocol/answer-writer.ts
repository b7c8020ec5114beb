import { utf8Write } from '../base/bytes.js';

/**
 * Builds answer bytes from text pieces. Measured (native-bench/codec.ts): rendering a 1000-job
 * answer as one concatenated string and then Buffer.from costs about twice as much as writing each
 * job's string into a byte buffer as it is made, because the giant rope string must first be
 * flattened. So answers are written piece by piece into one reused scratch buffer and copied out
 * once at the exact size. Each encoder owns its writer.
 */
const INITIAL = 64 * 1024;
/** scratch grown past this by a huge answer is dropped afterwards rather than kept */
const KEEP_AT_MOST = 8 * 1024 * 1024;

export class AnswerWriter {
  private buf = Buffer.allocUnsafe(INITIAL);
  private pos = 0;
  // Answers usually carry many jobs of one queue: quote its name once.
  private lastQueue = '';
  private lastQueueJson = '""';

  begin(): this {
    this.pos = 0;
    return this;
  }

  text(s: string): this {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; count exactly only near the end of the scratch
    if (this.pos + s.length * 3 > this.buf.length) {
      const need = Buffer.byteLength(s, 'utf8');
      if (this.pos + need > this.buf.length) this.grow(need);
    }
    this.pos += utf8Write(this.buf, s, this.pos);
    return this;
  }

  byte(c: number): this {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
    return this;
  }

  /** A non-negative safe integer in decimal, without making its string. */
  uint(n: number): this {
    if (this.pos + 16 > this.buf.length) this.grow(16);
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    const buf = this.buf;
    let p = (this.pos += digits);
    let x = n;
    while (x >= 10) {
      const q = Math.floor(x / 10);
      buf[--p] = 0x30 + (x - q * 10);
      x = q;
    }
    buf[--p] = 0x30 + x;
    return this;
  }

  /** A queue name as a JSON string, remembered for the next job of the same queue. */
  queueJson(q: string): string {
    if (q !== this.lastQueue) {
      this.lastQueue = q;
      this.lastQueueJson = JSON.stringify(q);
    }
    return this.lastQueueJson;
  }

  /** The bytes written since begin(), in a buffer of their own. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    if (this.buf.length > KEEP_AT_MOST) this.buf = Buffer.allocUnsafe(INITIAL);
    return out;
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
