import { utf8Write } from '../../base/bytes.js';
import { isBlank } from './body.js';

/**
 * The request wrapper a shard's HTTP decoder reads (src/protocol/decode-http.ts):
 * `{"cmd":…,"queue":…,"id":…,"name":…,"query":{…},"incoming":true,"body":<raw body>}`.
 *
 * The raw body is spliced in as bytes, never parsed here. It goes LAST, and the decoder checks
 * that `body` occurs once and ends right before the wrapper's closing brace, so a body such as
 * `1,"queue":"x"` cannot add members to the wrapper: it is answered `Invalid JSON`.
 *
 * Built into one scratch buffer reused for every request: the dispatcher copies the bytes into the
 * shard's frame before `send` returns.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);

const BODY_KEY = ',"body":';

export interface WrapperFields {
  cmd: string;
  queue?: string;
  id?: number;
  name?: string;
  query?: Record<string, string>;
  incoming?: boolean;
}

/** The head of the wrapper (everything but `body` and the closing brace). */
export function wrapperHead(f: WrapperFields): string {
  let s = `{"cmd":"${f.cmd}"`;
  if (f.queue !== undefined) s += `,"queue":${JSON.stringify(f.queue)}`;
  if (f.id !== undefined) s += `,"id":${f.id}`;
  if (f.name !== undefined) s += `,"name":${JSON.stringify(f.name)}`;
  if (f.query !== undefined) s += `,"query":${JSON.stringify(f.query)}`;
  if (f.incoming === true) s += ',"incoming":true';
  return s;
}

/** head + (body ? `,"body":<body>` : '') + `}`; the returned view is valid until the next call. */
export function wrap(head: string, body: Buffer | null): Buffer {
  const withBody = body !== null && body.length > 0 && !isBlank(body);
  const need = head.length * 3 + (withBody ? BODY_KEY.length + body.length : 0) + 1;
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  let n = utf8Write(scratch, head, 0);
  if (withBody) {
    n += scratch.write(BODY_KEY, n, 'latin1');
    n += body.copy(scratch, n);
  }
  scratch[n++] = 0x7d;
  return scratch.subarray(0, n);
}

/** A wrapper without a body. */
export function wrapNoBody(f: WrapperFields): Buffer {
  return wrap(wrapperHead(f), null);
}
