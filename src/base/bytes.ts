/**
 * Byte/string conversions on the hot paths. Node's Buffer has native `utf8Slice`/`latin1Slice`
 * (what `toString(enc, s, e)` ends up calling after normalising its arguments); they are not in
 * the typings, hence this one place that reaches for them.
 */

interface NativeSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number): number;
}

/** A Buffer over the same memory (no copy), for views of plain or shared ArrayBuffers. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function utf8Text(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).utf8Slice(start, end);
}

/** Text of bytes known to be ASCII: a plain copy, no UTF-8 decoding. */
export function latin1Text(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).latin1Slice(start, end);
}

/** Writes s as UTF-8 at offset; returns the byte count (the caller guarantees the room). */
export function utf8Write(buf: Buffer, s: string, offset: number): number {
  return (buf as unknown as NativeSlices).utf8Write(s, offset);
}

/** Text of a short byte run: latin1 (one copy, no decoding) when it is ASCII, else UTF-8. */
export function shortText(b: Uint8Array, start: number, end: number): string {
  const buf = asBuffer(b);
  for (let k = start; k < end; k++) {
    if (b[k]! >= 0x80) return utf8Text(buf, start, end);
  }
  return (buf as unknown as NativeSlices).latin1Slice(start, end);
}

/** Whether bytes[start, end) spell exactly the ASCII string s. */
export function bytesEqual(b: Uint8Array, start: number, end: number, s: string): boolean {
  const n = s.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) {
    if (b[start + k] !== s.charCodeAt(k)) return false;
  }
  return true;
}
