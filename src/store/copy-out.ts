import { latin1Text, utf8Text } from '../base/bytes.js';
import type { Sql } from './connection.js';

/**
 * Reading PostgreSQL's COPY … TO STDOUT text format: rows end in a newline, columns are separated
 * by tabs, `\N` is NULL, and a backslash escapes itself, the separators and the other control
 * characters (\b \f \n \r \t \v). Recovery reads whole partitions this way, so it is the step a
 * cluster failover waits on: rows are cut into columns on the bytes of the stream's chunks, numbers
 * are read from the bytes, and only text columns become strings (measured per row: a string of the
 * chunk split into 22 column strings, each converted, cost ~4 µs; the byte walk ~1 µs).
 */

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const MAX_COLUMNS = 31;
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One column's text, `\N` → null, escapes resolved (most values have none: one indexOf). */
export function copyValue(raw: string): string | null {
  if (raw === '\\N') return null;
  if (raw.indexOf('\\') < 0) return raw;
  return raw.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c);
}

/**
 * One row being read: column i is the bytes [start(i), end(i)) of `buf`. Valid only during the
 * callback that receives it (the next row reuses it and the chunk may be let go).
 */
export class CopyRow {
  buf: Buffer = Buffer.alloc(0);
  /** number of columns of this row */
  count = 0;
  /** bit i set: column i holds a backslash or a byte ≥ 0x80 (not plain ASCII) */
  special = 0;
  readonly at = new Int32Array(2 * MAX_COLUMNS);

  start(i: number): number {
    return this.at[2 * i]!;
  }

  end(i: number): number {
    return this.at[2 * i + 1]!;
  }

  isNull(i: number): boolean {
    const s = this.at[2 * i]!;
    return this.at[2 * i + 1]! - s === 2 && this.buf[s] === BACKSLASH && this.buf[s + 1] === 0x4e;
  }

  /** Column i's bytes are ASCII with no escape: [start, end) is its text as is. */
  isPlain(i: number): boolean {
    return (this.special & (1 << i)) === 0;
  }

  text(i: number): string | null {
    const s = this.at[2 * i]!;
    const e = this.at[2 * i + 1]!;
    if ((this.special & (1 << i)) === 0) return latin1Text(this.buf, s, e);
    return copyValue(utf8Text(this.buf, s, e));
  }

  /** An integer column (bigint, integer, smallint); NULL reads as NaN. */
  int(i: number): number {
    const buf = this.buf;
    let s = this.at[2 * i]!;
    const e = this.at[2 * i + 1]!;
    // beyond 15 digits the digit loop could round differently from the text's own conversion
    if (e - s > 15 || (this.special & (1 << i)) !== 0) return Number(latin1Text(buf, s, e));
    let neg = false;
    if (buf[s] === 0x2d) {
      neg = true;
      s++;
    }
    if (s === e) return NaN;
    let n = 0;
    for (; s < e; s++) {
      const d = buf[s]! - 0x30;
      if (d < 0 || d > 9) return Number(latin1Text(buf, this.at[2 * i]!, e));
      n = n * 10 + d;
    }
    return neg ? -n : n;
  }

  /** A boolean column: `t` or `f`. */
  bool(i: number): boolean {
    return this.buf[this.at[2 * i]!] === 0x74;
  }
}

/**
 * Cut the complete rows of `buf` from `from` on, calling `row` for each; returns the offset of
 * the first byte of an incomplete last row (buf.length when none).
 */
function cutRows(buf: Buffer, from: number, r: CopyRow, row: (r: CopyRow) => void): number {
  const at = r.at;
  const n = buf.length;
  r.buf = buf;
  let rowStart = from;
  let col = 0;
  let special = 0;
  at[0] = from;
  for (let i = from; i < n; i++) {
    const b = buf[i]!;
    if (b > NEWLINE) {
      if (b === BACKSLASH || b >= 0x80) special |= 1 << col;
      continue;
    }
    if (b === TAB) {
      if (col + 1 >= MAX_COLUMNS) throw new Error(`a COPY row has more than ${MAX_COLUMNS} columns`);
      at[2 * col + 1] = i;
      col++;
      at[2 * col] = i + 1;
    } else if (b === NEWLINE) {
      at[2 * col + 1] = i;
      r.count = col + 1;
      r.special = special;
      row(r);
      rowStart = i + 1;
      col = 0;
      special = 0;
      at[0] = rowStart;
    }
  }
  return rowStart;
}

/**
 * Run `statement` (a COPY … TO STDOUT) on `sql` (a pool or a transaction) and hand each row to
 * `row`. Rows are cut on bytes, so a multibyte character split across chunks is never broken
 * (UTF-8 never has 0x09 or 0x0A inside a character).
 */
export async function readCopy(sql: Pick<Sql, 'unsafe'>, statement: string, row: (r: CopyRow) => void): Promise<void> {
  const stream = await sql.unsafe(statement).readable();
  const r = new CopyRow();
  let carry: Buffer | null = null;
  // Flowing mode: the driver pushes one chunk per CopyData message, that is one per row, and an
  // async iterator would cost a promise and a buffer round per row (~1.5 µs, more than cutting it).
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
        const rest = cutRows(buf, 0, r, row);
        carry = rest < buf.length ? buf.subarray(rest) : null;
      } catch (err) {
        stream.destroy(err as Error);
      }
    });
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  // The driver (postgres 3.4) pauses its socket whenever the stream's buffer is full and resumes
  // it only from the stream's read(); when CopyDone arrives in the same socket chunk as the data
  // that filled the buffer, the stream ends with the socket still paused and every later query on
  // that connection waits forever (porsager/postgres#1016). A flowing stream's buffer does not
  // fill, but resuming once more is harmless.
  (stream as unknown as { _read(size: number): void })._read(0);
  if (carry !== null && (carry as Buffer).length > 0) throw new Error('COPY output ended inside a row');
}
