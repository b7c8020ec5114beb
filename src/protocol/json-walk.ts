import { asBuffer, utf8Text } from '../base/bytes.js';

/**
 * Byte-level JSON walking without building values: find where a value starts and ends so the
 * front can read routing fields and the shard can slice a job's `data` text out of a line.
 *
 * The walkers are tolerant, not validators: on bytes that are not JSON they return -1 (or give a
 * span JSON.parse would reject). Callers either validate the same bytes with JSON.parse (the
 * shard) or only use what they find to pick a shard (the front), where a wrong guess costs nothing
 * because the shard re-reads and reports.
 *
 * Side results go to the walker's fields so each call returns one number and allocates nothing.
 * A walker belongs to one owner (a decoder, a scanner): its fields are only valid until that
 * owner's next call, and two owners never share one, so walks can interleave.
 */

/** Index of the first byte at or after i that is not JSON whitespace (end if none). */
export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return i;
}

function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x7d || c === 0x5d || c === 0x3a || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export const MEMBER_ABSENT = -1;
/** a key written with escapes may be the one sought: its value cannot be located exactly */
export const MEMBER_UNSURE = -2;
/** the object is not well-formed (objectEnd is not set) */
export const MEMBER_MALFORMED = -3;

export class JsonWalk {
  /** a skipped string (or, for findMember, a key) contained a backslash escape */
  escaped = false;
  /** a skipped container had a raw `\n`/`\r` between tokens (pretty-printed JSON) */
  newline = false;
  /** findMember: end of the found value (exclusive) */
  valueEnd = 0;
  /** findMember: index after the object's closing brace */
  objectEnd = 0;
  /** findMember: occurrences of the key (escaped look-alikes included) */
  matches = 0;

  /** i at an opening quote; the index after the closing quote, or -1 when unterminated. */
  skipString(b: Uint8Array, i: number, end: number): number {
    i++;
    while (i < end) {
      const c = b[i]!;
      if (c === 0x22) return i + 1;
      if (c === 0x5c) {
        this.escaped = true;
        i += 2;
      } else i++;
    }
    return -1;
  }

  /** i at the first byte of a value; the index after it, or -1 when malformed or unterminated. */
  skipValue(b: Uint8Array, i: number, end: number): number {
    if (i >= end) return -1;
    let c = b[i]!;
    if (c === 0x22) return this.skipString(b, i, end);
    if (c !== 0x7b && c !== 0x5b) {
      const s = i;
      while (i < end && !isDelimiter(b[i]!)) i++;
      return i > s ? i : -1;
    }
    // Brackets are counted without telling `{` from `[`: mismatches are JSON.parse's to report.
    let depth = 0;
    while (i < end) {
      c = b[i]!;
      if (c === 0x22) {
        i = this.skipString(b, i, end);
        if (i < 0) return -1;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) return i + 1;
      } else if (c === 0x0a || c === 0x0d) this.newline = true;
      i++;
    }
    return -1;
  }

  /**
   * Start of the value of member `key` in the object starting at `i` (its `{`), taking the last
   * occurrence as JSON.parse does. Sets valueEnd, newline (for that value),
   * objectEnd and matches (how many times the key occurs).
   */
  findMember(b: Uint8Array, i: number, end: number, key: Uint8Array): number {
    if (b[i] !== 0x7b) return MEMBER_MALFORMED;
    const klen = key.length;
    let found = MEMBER_ABSENT;
    let matches = 0;
    let foundEnd = 0;
    let foundNewline = false;
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x7d) {
      this.objectEnd = i + 1;
      this.matches = 0;
      return MEMBER_ABSENT;
    }
    while (i < end) {
      if (b[i] !== 0x22) return MEMBER_MALFORMED;
      this.escaped = false;
      const ks = i + 1;
      i = this.skipString(b, i, end);
      if (i < 0) return MEMBER_MALFORMED;
      const ke = i - 1;
      let match = this.escaped;
      if (!match && ke - ks === klen) {
        match = true;
        for (let k = 0; k < klen; k++) {
          if (b[ks + k] !== key[k]) {
            match = false;
            break;
          }
        }
      }
      const escapedKey = this.escaped;
      i = skipWs(b, i, end);
      if (b[i] !== 0x3a) return MEMBER_MALFORMED;
      const vs = skipWs(b, i + 1, end);
      this.newline = false;
      i = this.skipValue(b, vs, end);
      if (i < 0) return MEMBER_MALFORMED;
      if (match) {
        matches++;
        if (escapedKey) {
          found = MEMBER_UNSURE;
        } else {
          found = vs;
          foundEnd = i;
          foundNewline = this.newline;
        }
      }
      i = skipWs(b, i, end);
      const c = b[i];
      if (c === 0x2c) {
        i = skipWs(b, i + 1, end);
        continue;
      }
      if (c !== 0x7d) return MEMBER_MALFORMED;
      this.objectEnd = i + 1;
      this.matches = matches;
      this.valueEnd = foundEnd;
      this.newline = foundNewline;
      return found;
    }
    return MEMBER_MALFORMED;
  }
}

/** The value of the JSON string token b[qs, qe) (quotes included, escapes decoded), or null. */
export function stringToken(b: Uint8Array, qs: number, qe: number): string | null {
  try {
    const v: unknown = JSON.parse(utf8Text(asBuffer(b), qs, qe));
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** A key as bytes, for findMember. */
export function keyBytes(key: string): Uint8Array {
  return Buffer.from(key, 'latin1');
}
