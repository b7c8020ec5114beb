import type { HttpRequest } from 'uWebSockets.js';
import { errors, PAYLOAD_LIMIT } from '../../base/errors.js';
import type { Exchange } from './exchange.js';

/** Bodies that carry job data: the payload limit plus room for the other fields (compat.md). */
export const JOB_BODY_LIMIT = PAYLOAD_LIMIT + 64 * 1024;
/** Bodies of management routes (webhooks, heartbeats): small objects. */
export const SMALL_BODY_LIMIT = 64 * 1024;

/**
 * Past this, an oversized body is cut off by closing the connection instead of being drained.
 * Draining (reading and dropping) up to it matters: closing with unread bytes makes the kernel
 * send a reset, and a client still uploading would then lose the 413 answer itself.
 */
const DRAIN_CAP = 16 * 1024 * 1024;

/**
 * Read a request body with a size bound. `onBody` runs synchronously inside uWS's last data
 * callback with a Buffer that is only valid during the call (a view of uWS memory when the body
 * came in one chunk, which is the common case: no copy). A body over `limit` is never buffered: its
 * bytes are dropped as they come and the request is answered 413 once it ended (the connection
 * stays usable), or as soon as it passes DRAIN_CAP (then the connection is closed).
 *
 * Must be called synchronously in the route handler (uWS only accepts onData there); `contentLength`
 * is read from the request before.
 */
export function readBody(x: Exchange, contentLength: number, limit: number, onBody: (body: Buffer) => void): void {
  if (contentLength > DRAIN_CAP) {
    x.error(errors.payloadTooLarge(contentLength, limit), true);
    return;
  }
  let chunks: Buffer[] | null = null;
  let total = 0;
  let refused = contentLength > limit;
  x.res.onData((chunk, isLast) => {
    if (x.done) return;
    total += chunk.byteLength;
    if (refused || total > limit) {
      refused = true;
      chunks = null;
      const size = Math.max(total, contentLength);
      if (total > DRAIN_CAP) x.error(errors.payloadTooLarge(size, limit), true);
      else if (isLast) x.error(errors.payloadTooLarge(size, limit));
      return;
    }
    if (isLast) {
      if (chunks === null) {
        onBody(Buffer.from(chunk));
      } else {
        chunks.push(Buffer.from(chunk));
        const whole = Buffer.concat(chunks, total);
        chunks = null;
        onBody(whole);
      }
      return;
    }
    // uWS neuters the chunk when this callback returns: keep a copy
    (chunks ??= []).push(Buffer.from(new Uint8Array(chunk).slice()));
  });
}

/** Content-Length of the request (0 when absent or unreadable; the running total still bounds it). */
export function contentLength(req: HttpRequest): number {
  const v = req.getHeader('content-length');
  if (v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** Whether a body is only whitespace (or empty): treated as no body. */
export function isBlank(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/** Parse a small management body (never job payloads) into an object, or answer 400. */
export function parseObject(x: Exchange, body: Buffer, allowEmpty: boolean): Record<string, unknown> | null {
  if (isBlank(body)) {
    if (allowEmpty) return {};
    x.error(errors.badRequest('Missing request body'));
    return null;
  }
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    x.error(errors.invalidJson(e instanceof Error ? e.message : String(e)));
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    x.error(errors.badRequest('Invalid request body: expected a JSON object'));
    return null;
  }
  return v as Record<string, unknown>;
}
