/**
 * A strict JSON validator over bytes that builds nothing: it accepts exactly what JSON.parse
 * accepts (RFC 8259 grammar; bytes >= 0x80 inside strings are taken as they are, as JSON.parse
 * takes the U+FFFD that UTF-8 decoding makes of invalid ones) and returns where the value ends.
 * It lets the shard check a job's data without materialising it as objects (json-lite.ts).
 * Nesting uses an explicit stack, so depth costs no call stack. The stack and the side results
 * belong to one validator instance, owned by one decoder.
 */

const OBJ = 1;
const ARR = 2;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function digits(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/** i at a number's first byte: the index after it, or -1. `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` */
export function validNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  const c = b[i];
  if (c === 0x30) i++;
  else if (c !== undefined && c >= 0x31 && c <= 0x39) i = digits(b, i + 1, end);
  else return -1;
  if (b[i] === 0x2e) {
    const s = i + 1;
    i = digits(b, s, end);
    if (i === s) return -1;
  }
  const e = b[i];
  if (e === 0x65 || e === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    const s = i;
    i = digits(b, s, end);
    if (i === s) return -1;
  }
  return i;
}

function literal(b: Uint8Array, i: number, end: number, c: number): number {
  if (c === 0x74) return i + 4 <= end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x66) return i + 5 <= end && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : -1;
  if (c === 0x6e) return i + 4 <= end && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : -1;
  return -1;
}

export class JsonValidator {
  /** the last validated value had a raw `\n`/`\r` between tokens */
  newline = false;
  /** the last validated value is all ASCII (its text is a latin1 copy of its bytes) */
  ascii = true;
  private stack = new Uint8Array(64);

  /** i at `"`: the index after the closing quote, or -1. */
  validString(b: Uint8Array, i: number, end: number): number {
    i++;
    while (i < end) {
      const c = b[i]!;
      if (c === 0x22) return i + 1;
      if (c < 0x20) return -1;
      if (c >= 0x80) this.ascii = false;
      if (c === 0x5c) {
        const e = b[i + 1];
        if (e === 0x75) {
          if (i + 6 > end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) return -1;
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
        } else return -1;
      } else i++;
    }
    return -1;
  }

  /**
   * i at the first byte of a value (no leading whitespace): the index after the value, or -1 when
   * it is not valid JSON. Sets newline when it contains raw line breaks.
   */
  validValue(b: Uint8Array, i: number, end: number): number {
    this.newline = false;
    this.ascii = true;
    let stack = this.stack;
    let depth = 0;
    for (;;) {
      // a value starts at i
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x7b || c === 0x5b) {
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2);
          grown.set(stack);
          this.stack = stack = grown;
        }
        stack[depth++] = c === 0x7b ? OBJ : ARR;
        i = this.ws(b, i + 1, end);
        if (b[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          depth--;
          i++;
        } else {
          if (c === 0x7b) {
            i = this.member(b, i, end);
            if (i < 0) return -1;
          }
          continue;
        }
      } else if (c === 0x22) i = this.validString(b, i, end);
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = validNumber(b, i, end);
      else i = literal(b, i, end, c);
      if (i < 0) return -1;
      // after a value: close containers until one expects another element
      for (;;) {
        if (depth === 0) return i;
        i = this.ws(b, i, end);
        const d = b[i];
        const top = stack[depth - 1];
        if (d === 0x2c) {
          i = this.ws(b, i + 1, end);
          if (top === OBJ) {
            i = this.member(b, i, end);
            if (i < 0) return -1;
          }
          break;
        }
        if ((d === 0x7d && top === OBJ) || (d === 0x5d && top === ARR)) {
          depth--;
          i++;
          continue;
        }
        return -1;
      }
    }
  }

  private ws(b: Uint8Array, i: number, end: number): number {
    while (i < end) {
      const c = b[i]!;
      if (c === 0x20 || c === 0x09) i++;
      else if (c === 0x0a || c === 0x0d) {
        this.newline = true;
        i++;
      } else break;
    }
    return i;
  }

  /** i at a member's key: the index of its value (after `"key" :` and whitespace), or -1. */
  private member(b: Uint8Array, i: number, end: number): number {
    if (b[i] !== 0x22) return -1;
    i = this.validString(b, i, end);
    if (i < 0) return -1;
    i = this.ws(b, i, end);
    if (b[i] !== 0x3a) return -1;
    return this.ws(b, i + 1, end);
  }
}
