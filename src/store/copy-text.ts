/**
 * PostgreSQL COPY text format: columns separated by tab, rows by newline, `\N` for NULL,
 * backslash escapes for backslash, tab, newline and carriage return. Most values (JSON payloads
 * included: JSON escapes its control characters) contain none of them, so a test precedes the
 * replace.
 */

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;

function escapeChar(c: string): string {
  return c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}

export function copyText(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_ALL, escapeChar) : s;
}

export function copyTextOrNull(s: string | null): string {
  return s === null ? '\\N' : copyText(s);
}

/** A bigint[] literal (already COPY-safe: digits, commas, braces). */
export function intArray(xs: readonly number[]): string {
  return xs.length === 0 ? '{}' : `{${xs.join(',')}}`;
}

/** A text[] literal, every element quoted, then escaped for COPY. */
export function textArray(xs: readonly string[]): string {
  if (xs.length === 0) return '{}';
  let s = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) s += ',';
    s += `"${xs[i]!.replace(/[\\"]/g, '\\$&')}"`;
  }
  return copyText(s + '}');
}
