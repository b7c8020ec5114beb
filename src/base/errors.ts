/**
 * The error catalogue: every failure the server reports, with the status it maps to on each
 * surface. Texts start with the API document's words; detail may follow them.
 * This module imports nothing so every layer (the engine included) may throw from it.
 */

export const enum ErrorCode {
  BadRequest = 1,
  NotFound = 2,
  Duplicate = 3,
  TooLarge = 4,
  RateLimited = 5,
  QueuePaused = 6,
  Conflict = 7,
  Unauthenticated = 8,
  StorageUnavailable = 9,
  TooManyQueues = 10,
  Internal = 11,
  TooManyConnections = 12,
  NotServed = 13,
}

/** HTTP status per code (index = code). */
export const HTTP_STATUS: readonly number[] = [200, 400, 404, 409, 413, 429, 409, 409, 401, 503, 429, 500, 503, 503];

/** gRPC status per code (index = code), numeric values of @grpc/grpc-js `status`. */
export const GRPC_STATUS: readonly number[] = [
  0, // OK
  3, // INVALID_ARGUMENT
  5, // NOT_FOUND
  6, // ALREADY_EXISTS
  8, // RESOURCE_EXHAUSTED (payload too large)
  8, // RESOURCE_EXHAUSTED (rate limited)
  9, // FAILED_PRECONDITION (queue paused)
  9, // FAILED_PRECONDITION (job in a state that forbids the operation)
  16, // UNAUTHENTICATED
  14, // UNAVAILABLE
  8, // RESOURCE_EXHAUSTED (too many queues)
  13, // INTERNAL
  8, // RESOURCE_EXHAUSTED (too many connections)
  14, // UNAVAILABLE (partition not served here: moving between nodes)
];

export class FlashqError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FlashqError';
  }
}

export const PAYLOAD_LIMIT = 1_048_576;

export const errors = {
  badRequest: (detail: string) => new FlashqError(ErrorCode.BadRequest, detail),
  invalidJson: (detail: string) => new FlashqError(ErrorCode.BadRequest, `Invalid JSON: ${detail}`),
  invalidMsgpack: (detail: string) => new FlashqError(ErrorCode.BadRequest, `Invalid MessagePack: ${detail}`),
  unknownCommand: (cmd: string) => new FlashqError(ErrorCode.BadRequest, `Unknown command: ${cmd}`),
  invalidQueueName: (name: string) =>
    new FlashqError(ErrorCode.BadRequest, `Invalid queue name: ${JSON.stringify(name.length > 64 ? name.slice(0, 64) + '…' : name)}`),
  invalidCron: (detail: string) => new FlashqError(ErrorCode.BadRequest, `Invalid cron expression: ${detail}`),
  batchTooLarge: (max: number) => new FlashqError(ErrorCode.BadRequest, `Batch too large (max ${max})`),
  payloadTooLarge: (bytes: number, max: number = PAYLOAD_LIMIT) =>
    new FlashqError(ErrorCode.TooLarge, `Payload too large (${bytes} bytes, max ${max})`),
  jobNotFound: (id: number | string) => new FlashqError(ErrorCode.NotFound, `Job ${id} not found`),
  jobNotFoundFinished: (id: number) => new FlashqError(ErrorCode.NotFound, `Job ${id} not found (already completed/failed)`),
  jobNotProcessing: (id: number) => new FlashqError(ErrorCode.NotFound, `Job ${id} not found in processing`),
  jobActive: (id: number) => new FlashqError(ErrorCode.Conflict, `Job ${id} is active and cannot be cancelled`),
  duplicate: (key: string) => new FlashqError(ErrorCode.Duplicate, `Duplicate job: key ${key}`),
  queuePaused: () => new FlashqError(ErrorCode.QueuePaused, 'Queue paused'),
  rateLimited: () => new FlashqError(ErrorCode.RateLimited, 'Rate limited'),
  tooManyQueues: (max: number) => new FlashqError(ErrorCode.TooManyQueues, `Too many queues (max ${max})`),
  authRequired: () => new FlashqError(ErrorCode.Unauthenticated, 'Authentication required'),
  authInvalid: () => new FlashqError(ErrorCode.Unauthenticated, 'Authentication required: invalid token'),
  authClosing: (failures: number) =>
    new FlashqError(ErrorCode.Unauthenticated, `Authentication required: invalid token (${failures} failed attempts, connection closed)`),
  tooManyConnections: (max: number) =>
    new FlashqError(ErrorCode.TooManyConnections, `Too many connections (max ${max}): try again later or raise MAX_CONNECTIONS`),
  storageUnavailable: (detail?: string) =>
    new FlashqError(ErrorCode.StorageUnavailable, detail ? `Storage unavailable: ${detail}` : 'Storage unavailable'),
  /** cluster mode: the partition is not (or not yet, or no longer) served by this node's shard */
  notServed: (partition: number) => new FlashqError(ErrorCode.NotServed, `Partition ${partition} is not served by this node`),
  internal: (detail: string) => new FlashqError(ErrorCode.Internal, `Internal error: ${detail}`),
};
