import type { JobState, JobView } from '../engine/types.js';
import { errors, type FlashqError } from '../base/errors.js';
import { GrpcMethod } from './grpc-decode.js';
import { ProtoWriter, WIRE_LEN } from './grpc-wire.js';
import type { Request } from './request.js';
import type { Result } from './result.js';

export { GrpcDecoder, GrpcMethod } from './grpc-decode.js';

/**
 * The gRPC surface's codec. Requests (grpc-decode.ts) are `[method id][protobuf request]`
 * records the front forwards untouched; answers are the method's protobuf response message,
 * or the error text (the front maps the code beside it to a gRPC status).
 *
 * Hand-written rather than protobufjs: the messages are flat, payloads stay JSON text, and ids
 * are numbers, not Longs (bench/grpc.ts measures both).
 */

const STATE_ENUM: Readonly<Record<JobState, number>> = {
  unknown: 0,
  waiting: 1,
  delayed: 2,
  active: 3,
  completed: 4,
  failed: 5,
  'waiting-children': 6,
};

// ---------------------------------------------------------------------- encode
// Every encoder takes the caller's writer (each owner keeps one and reuses it).

/** A Job message (fields at their proto3 defaults are left out). */
export function writeJob(out: ProtoWriter, j: JobView): void {
  out.uint(1, j.id);
  out.string(2, j.queue);
  out.string(3, j.data);
  out.int32(4, j.priority);
  out.uint(5, j.createdAt);
  out.uint(6, j.runAt);
  out.uint(7, j.startedAt);
  out.uint(8, j.attempts);
  out.uint(9, j.maxAttempts);
  out.uint(10, j.backoff);
  out.uint(11, j.ttl);
  out.uint(12, j.timeout);
  if (j.uniqueKey !== null) out.string(13, j.uniqueKey);
  out.packed(14, j.dependsOn);
  out.uint(15, j.progress);
  if (j.progressMsg !== null) out.string(16, j.progressMsg);
  out.uint(17, j.lifo ? 1 : 0);
}

/**
 * The protobuf response of a request's method. A Pull that got no job (the server is stopping)
 * is the empty message: a real Job always has an id, so the front can tell.
 */
export function encodeGrpc(w: ProtoWriter, request: Request, result: Result): Uint8Array {
  w.reset();
  switch (result.kind) {
    case 'pushed':
      w.uint(1, 1);
      if (request.cmd === 'PUSH') w.uint(2, result.jobs[0]?.id ?? 0);
      else w.packed(2, result.jobs.map((j) => j.id));
      break;
    case 'jobs':
      if (request.cmd === 'PULL') {
        const job = result.jobs[0];
        if (job !== undefined) writeJob(w, job);
      } else {
        for (const job of result.jobs) {
          w.tag(1, WIRE_LEN);
          const at = w.beginLen();
          writeJob(w, job);
          w.endLen(at);
        }
      }
      break;
    case 'ok':
      w.uint(1, 1);
      break;
    case 'count':
      w.uint(1, 1);
      w.uint(2, result.count);
      break;
    case 'state':
      w.uint(1, result.id);
      w.uint(2, STATE_ENUM[result.state]);
      break;
    case 'stats':
      w.uint(1, result.stats.queued);
      w.uint(2, result.stats.processing);
      w.uint(3, result.stats.delayed);
      w.uint(4, result.stats.dlq);
      break;
    default:
      throw errors.internal(`${request.cmd} has no gRPC response`);
  }
  return w.finish();
}

/** Error answers carry the catalogue text; the code travels beside it. */
export function encodeGrpcError(err: FlashqError): Uint8Array {
  return Buffer.from(err.message, 'utf8');
}

// ------------------------------------------------------------ front-side helpers

/** A PullBatch record built on the front (StreamJobs, ProcessJobs). */
export function pullBatchRecord(w: ProtoWriter, queue: string, count: number): Buffer {
  w.reset();
  w.buf[w.pos++] = GrpcMethod.PullBatch;
  w.string(1, queue);
  w.uint(2, count);
  return w.finish();
}

/** An AckBatch record of ids the front gathered (ProcessJobs results without payload). */
export function ackBatchRecord(w: ProtoWriter, ids: readonly number[]): Buffer {
  w.reset();
  w.buf[w.pos++] = GrpcMethod.AckBatch;
  w.packed(1, ids);
  return w.finish();
}
