import type { JobInput } from '../engine/types.js';
import { errors } from '../base/errors.js';
import {
  checkInt,
  cronName,
  cronSchedule,
  idList,
  INT32_MAX,
  INT32_MIN,
  invalidField,
  isObj,
  lookup,
  MAX_SAFE,
  missingField,
  type Obj,
  optBool,
  optFilterState,
  optInt,
  optStr,
  reqId,
  reqInt,
  strList,
  UINT32_MAX,
} from './fields.js';
import type { PayloadSource } from './payload-text.js';
import type { Request } from './request.js';
import { validateQueueName } from '../engine/names.js';
import { attemptsOf, backoffOf } from '../engine/job-defaults.js';

/**
 * Validation of command objects, shared by every surface whose request is one object with the
 * fields at the top level (TCP JSON, TCP MessagePack, Internal) and, for jobs, by HTTP.
 */

export interface DecodeOptions {
  /** largest PUSHB / PULLB / ACKB (compat.md: 1000, MAX_BATCH may raise it) */
  maxBatch: number;
  /** largest job data / ack result, in bytes of its JSON text (default PAYLOAD_LIMIT) */
  payloadLimit?: number;
  /**
   * Batch jobs may carry their payload as a span of the request's bytes (JobInput.block) rather
   * than a string: for the engine, whose jobs keep it so. Other readers want strings.
   */
  payloadSpans?: boolean;
}

export const DEFAULT_MAX_BATCH = 1000;

/** DLQ `count` and JOBS `limit` when not given. */
export const DEFAULT_LIST_COUNT = 100;

export function queueField(v: unknown): string {
  if (v === undefined || v === null) throw missingField('queue', -1);
  if (typeof v !== 'string') throw invalidField('queue', -1, 'expected a string');
  validateQueueName(v);
  return v;
}

export function optQueueField(v: unknown): string | null {
  return v === undefined || v === null ? null : queueField(v);
}

/** Every field of a job object that jobInput reads besides `data` (json-lite parses exactly these). */
export const JOB_FIELDS = ['priority', 'delay', 'ttl', 'timeout', 'max_attempts', 'backoff', 'unique_key', 'depends_on', 'tags', 'lifo'] as const;

/** A job from its object (the request itself for PUSH, an element of `jobs` for PUSHB). */
export function jobInput(o: unknown, index: number, payload: PayloadSource, opts: DecodeOptions): JobInput {
  if (!isObj(o)) throw invalidField('', index, 'expected an object');
  const data = o.data;
  if (data === undefined) throw missingField('data', index);
  const block = opts.payloadSpans === true && payload.block !== undefined ? payload.block(index) : null;
  return {
    data: block === null ? payload.text(data, 'data', index) : '',
    block,
    ds: block === null ? 0 : payload.blockStart!,
    de: block === null ? 0 : payload.blockEnd!,
    priority: optInt(o.priority, 'priority', index, INT32_MIN, INT32_MAX, 0),
    delay: optInt(o.delay, 'delay', index, 0, MAX_SAFE, 0),
    ttl: optInt(o.ttl, 'ttl', index, 0, MAX_SAFE, 0),
    timeout: optInt(o.timeout, 'timeout', index, 0, MAX_SAFE, 0),
    maxAttempts: attemptsOf(optInt(o.max_attempts, 'max_attempts', index, 0, UINT32_MAX, 1)),
    backoff: backoffOf(o.backoff === undefined || o.backoff === null ? undefined : optInt(o.backoff, 'backoff', index, 0, MAX_SAFE, 0)),
    uniqueKey: optStr(o.unique_key, 'unique_key', index),
    dependsOn: idList(o.depends_on, 'depends_on', index, opts.maxBatch, () =>
      invalidField('depends_on', index, `at most ${opts.maxBatch} ids`),
    ),
    tags: strList(o.tags, 'tags', index),
    lifo: optBool(o.lifo, 'lifo', index, false),
  };
}

/** Every job of a batch, validated whole: the first bad one fails the request, naming its index. */
export function jobInputs(list: unknown, payload: PayloadSource, opts: DecodeOptions): JobInput[] {
  if (list === undefined || list === null) throw missingField('jobs', -1);
  if (!Array.isArray(list)) throw invalidField('jobs', -1, 'expected an array');
  const n = list.length;
  if (n > opts.maxBatch) throw errors.batchTooLarge(opts.maxBatch);
  const jobs = new Array<JobInput>(n);
  for (let i = 0; i < n; i++) jobs[i] = jobInput(list[i], i, payload, opts);
  return jobs;
}

export function ackIds(v: unknown, opts: DecodeOptions): number[] {
  if (v === undefined || v === null) throw missingField('ids', -1);
  return idList(v, 'ids', -1, opts.maxBatch, () => errors.batchTooLarge(opts.maxBatch));
}

/** PULLB count: 1..maxBatch; more is a batch error. */
export function pullCount(v: unknown, opts: DecodeOptions): number {
  const count = checkInt(v, 'count', -1, 1, MAX_SAFE);
  if (count > opts.maxBatch) throw errors.batchTooLarge(opts.maxBatch);
  return count;
}

/** DLQ count / JOBS limit: at least 1, capped at maxBatch (asking for more is not an error). */
export function listCount(v: number, opts: DecodeOptions): number {
  return v > opts.maxBatch ? opts.maxBatch : v;
}

/** PROGRESS value: an integer, clamped to 0..100 (compat.md). */
export function progressValue(v: unknown): number {
  const p = reqInt(v, 'progress', -1, -MAX_SAFE, MAX_SAFE);
  return p < 0 ? 0 : p > 100 ? 100 : p;
}

/** A payload that may be absent (ack result): null when absent or JSON null. */
export function optPayload(v: unknown, key: string, payload: PayloadSource): string | null {
  return v === undefined || v === null ? null : payload.text(v, key, -1);
}

type CommandDecoder = (o: Obj, payload: PayloadSource, opts: DecodeOptions) => Request;

/** Commands whose fields all sit at the top level of the request object. */
export const OBJECT_COMMANDS = lookup<CommandDecoder>({
  PUSH: (o, p, opts) => ({ cmd: 'PUSH', queue: queueField(o.queue), job: jobInput(o, -1, p, opts) }),
  PUSHB: (o, p, opts) => ({ cmd: 'PUSHB', queue: queueField(o.queue), jobs: jobInputs(o.jobs, p, opts) }),
  PULL: (o) => ({ cmd: 'PULL', queue: queueField(o.queue), timeout: optInt(o.timeout, 'timeout', -1, 0, MAX_SAFE, null) }),
  PULLB: (o, _p, opts) => ({
    cmd: 'PULLB',
    queue: queueField(o.queue),
    count: o.count === undefined || o.count === null ? 1 : pullCount(o.count, opts),
    timeout: optInt(o.timeout, 'timeout', -1, 0, MAX_SAFE, null),
  }),
  ACK: (o, p) => ({ cmd: 'ACK', id: reqId(o.id), result: optPayload(o.result, 'result', p) }),
  ACKB: (o, _p, opts) => ({ cmd: 'ACKB', ids: ackIds(o.ids, opts) }),
  FAIL: (o) => ({ cmd: 'FAIL', id: reqId(o.id), error: optStr(o.error, 'error', -1) }),
  CANCEL: (o) => ({ cmd: 'CANCEL', id: reqId(o.id) }),
  PROGRESS: (o) => ({ cmd: 'PROGRESS', id: reqId(o.id), progress: progressValue(o.progress), message: optStr(o.message, 'message', -1) }),
  GETPROGRESS: (o) => ({ cmd: 'GETPROGRESS', id: reqId(o.id) }),
  GETJOB: (o) => ({ cmd: 'GETJOB', id: reqId(o.id) }),
  GETSTATE: (o) => ({ cmd: 'GETSTATE', id: reqId(o.id) }),
  GETRESULT: (o) => ({ cmd: 'GETRESULT', id: reqId(o.id) }),
  DLQ: (o, _p, opts) => ({
    cmd: 'DLQ',
    queue: queueField(o.queue),
    count: listCount(optInt(o.count, 'count', -1, 1, MAX_SAFE, DEFAULT_LIST_COUNT), opts),
  }),
  RETRYDLQ: (o) => ({ cmd: 'RETRYDLQ', queue: queueField(o.queue), id: optInt(o.id, 'id', -1, 1, MAX_SAFE, null) }),
  RATELIMIT: (o) => ({ cmd: 'RATELIMIT', queue: queueField(o.queue), limit: reqInt(o.limit, 'limit', -1, 1, UINT32_MAX) }),
  RATELIMITCLEAR: (o) => ({ cmd: 'RATELIMITCLEAR', queue: queueField(o.queue) }),
  SETCONCURRENCY: (o) => ({ cmd: 'SETCONCURRENCY', queue: queueField(o.queue), limit: reqInt(o.limit, 'limit', -1, 1, UINT32_MAX) }),
  CLEARCONCURRENCY: (o) => ({ cmd: 'CLEARCONCURRENCY', queue: queueField(o.queue) }),
  PAUSE: (o) => ({ cmd: 'PAUSE', queue: queueField(o.queue) }),
  RESUME: (o) => ({ cmd: 'RESUME', queue: queueField(o.queue) }),
  LISTQUEUES: () => ({ cmd: 'LISTQUEUES' }),
  CRON: (o, p) => cronRequest(o, o.name, p),
  CRONDELETE: (o) => ({ cmd: 'CRONDELETE', name: cronName(o.name) }),
  CRONLIST: () => ({ cmd: 'CRONLIST' }),
  STATS: () => ({ cmd: 'STATS' }),
  METRICS: () => ({ cmd: 'METRICS' }),
  JOBS: (o, _p, opts) => ({
    cmd: 'JOBS',
    queue: optQueueField(o.queue),
    state: optFilterState(o.state, 'state'),
    limit: listCount(optInt(o.limit, 'limit', -1, 1, MAX_SAFE, DEFAULT_LIST_COUNT), opts),
    offset: optInt(o.offset, 'offset', -1, 0, MAX_SAFE, 0),
  }),
});

/** CRON from its field object (the request, or an HTTP body with the name from the path). */
export function cronRequest(o: Obj, name: unknown, p: PayloadSource): Request {
  return {
    cmd: 'CRON',
    name: cronName(name),
    queue: queueField(o.queue),
    // a cron without data pushes jobs with an empty object
    data: o.data === undefined ? '{}' : p.text(o.data, 'data', -1),
    schedule: cronSchedule(o.schedule),
    priority: optInt(o.priority, 'priority', -1, INT32_MIN, INT32_MAX, 0),
  };
}
