import { ErrorCode, FlashqError, HTTP_STATUS } from '../../base/errors.js';

/** The `{ok,data,error}` envelope every HTTP route answers with (compat.md "HTTP"). */

const STATUS_LINES: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Status`;
}

/** HTTP status of an ErrorCode (0 = ok). */
export function statusOf(code: number): number {
  return HTTP_STATUS[code] ?? 500;
}

/** `data` is JSON text already (front-built values are stringified once by the caller). */
export function okEnvelope(dataJson: string): string {
  return `{"ok":true,"data":${dataJson},"error":null}`;
}

export function errorEnvelope(message: string): string {
  return `{"ok":false,"data":null,"error":${JSON.stringify(message)}}`;
}

export function asFlashqError(e: unknown): FlashqError {
  if (e instanceof FlashqError) return e;
  return new FlashqError(ErrorCode.Internal, `Internal error: ${e instanceof Error ? e.message : String(e)}`);
}

export const JSON_TYPE = 'application/json';
