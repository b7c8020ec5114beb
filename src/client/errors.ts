/**
 * Every failure the client reports. Callers branch on the class: a server refusal means nothing
 * changed; a connection failure means the request's fate is unknown; a timeout means the answer
 * did not come in time (the request may still be applied later).
 */

/** The server answered `ok:false`; `message` is the server's `error` text, unchanged. */
export class FlashqClientError extends Error {
  override readonly name = 'FlashqClientError';
  constructor(
    message: string,
    /** the command word that was refused */
    readonly command: string,
  ) {
    super(message);
  }
}

export type ConnectionErrorCode =
  /** the socket dropped while the request was in flight: it may or may not have been applied */
  | 'CONNECTION_LOST'
  /** the client was closed before the request was answered */
  | 'CLOSED'
  /** connecting (or reconnecting) gave up */
  | 'CONNECT_FAILED';

export class FlashqConnectionError extends Error {
  override readonly name = 'FlashqConnectionError';
  constructor(
    message: string,
    readonly code: ConnectionErrorCode,
    /** true when the request reached the socket, so the server may have applied it */
    readonly maybeApplied: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer within the request's timeout. The connection stays usable and in step. */
export class FlashqTimeoutError extends Error {
  override readonly name = 'FlashqTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    /** true when the request had already been written, so the server may still apply it */
    readonly maybeApplied: boolean,
  ) {
    super(`${command} timed out after ${timeoutMs} ms`);
  }
}
