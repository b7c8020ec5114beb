import { snapshotJob } from '../engine/job.js';
import { asBuffer, utf8Text } from '../base/bytes.js';
import { errors, type ErrorCode, FlashqError } from '../base/errors.js';
import type { Result } from './result.js';

/**
 * The Internal format: shard answers the front merges (fan-out of STATS, METRICS, LISTQUEUES,
 * CRONLIST, JOBS) before rendering them for the client's surface. Requests are TCP-JSON-shaped
 * command objects (`{"cmd":"STATS"}`); answers are the Result itself:
 *
 *   JSON.stringify(result), with every JobView copied into a plain object holding all of the
 *   JobView fields under their own (camelCase) names; JSON-text fields (job `data`, `result`,
 *   cron `data`) stay text: they travel as JSON strings, so nothing is parsed into objects and
 *   decodeInternalAnswer hands back the same text.
 *   Errors: {"kind":"error","code":<ErrorCode>,"message":"…"}.
 *
 * e.g. {"kind":"stats","stats":{"queued":1,"processing":0,"delayed":0,"dlq":0}}
 *      {"kind":"jobs","jobs":[{"id":257,"queue":"q","data":"{\"a\":1}",…,"state":"waiting","result":null,"error":null,"finishedAt":0,"owner":0}]}
 */

function plain(result: Result): Result {
  switch (result.kind) {
    case 'pushed':
    case 'jobs':
      return { kind: result.kind, jobs: result.jobs.map(snapshotJob) };
    case 'job':
      return { kind: 'job', job: result.job === null ? null : snapshotJob(result.job), state: result.state };
    default:
      return result;
  }
}

export function internalAnswer(result: Result): string {
  return JSON.stringify(plain(result));
}

export function internalError(err: FlashqError): string {
  return JSON.stringify({ kind: 'error', code: err.code, message: err.message });
}

/** Read a shard's Internal answer back; an error answer is thrown as the FlashqError it was. */
export function decodeInternalAnswer(bytes: Uint8Array): Result {
  const buf = asBuffer(bytes);
  let o: unknown;
  try {
    o = JSON.parse(utf8Text(buf, 0, buf.length));
  } catch (e) {
    throw errors.internal(`bad internal answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof o !== 'object' || o === null || typeof (o as { kind?: unknown }).kind !== 'string') {
    throw errors.internal('bad internal answer: no kind');
  }
  const a = o as { kind: string; code?: unknown; message?: unknown };
  if (a.kind === 'error') throw new FlashqError(Number(a.code) as ErrorCode, String(a.message));
  return o as Result;
}
