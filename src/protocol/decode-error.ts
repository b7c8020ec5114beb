import { asBuffer, utf8Text } from '../base/bytes.js';
import { errors, FlashqError } from '../base/errors.js';
import type { Request } from './request.js';
import type { JsonWalk } from './json-walk.js';
import { scanJsonReqId } from './reqid-scan.js';

export type ReqId = string | number | null;

export interface Decoded {
  request: Request;
  /** the request's `reqId` (string or finite number) to echo in its answer, or null */
  reqId: ReqId;
}

/** A request that cannot be decoded; carries the reqId when it could be read, for the error answer. */
export class DecodeError extends FlashqError {
  constructor(
    cause: FlashqError,
    readonly reqId: ReqId,
  ) {
    super(cause.code, cause.message);
    this.name = 'DecodeError';
  }
}

export function asDecodeError(e: unknown, reqId: ReqId): DecodeError {
  if (e instanceof DecodeError) return e;
  if (e instanceof FlashqError) return new DecodeError(e, reqId);
  return new DecodeError(errors.internal(e instanceof Error ? e.message : String(e)), reqId);
}

/**
 * Parse JSON bytes; a syntax error becomes `Invalid JSON: …`, with the reqId when `reqIdWalk` is
 * given and one can be scanned.
 */
export function parseJson(bytes: Uint8Array, reqIdWalk: JsonWalk | null): unknown {
  const buf = asBuffer(bytes);
  try {
    return JSON.parse(utf8Text(buf, 0, buf.length));
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new DecodeError(errors.invalidJson(detail), reqIdWalk === null ? null : scanJsonReqId(buf, 0, buf.length, reqIdWalk));
  }
}
