/**
 * HTTP requests, as the HTTP front hands them to a shard: the front does not parse bodies, it
 * writes a small JSON wrapper around the raw body bytes.
 *
 *   {"cmd":"PUSH","queue":"emails","id":12,"name":"nightly","query":{"count":"10"},"incoming":true,"body":<raw body>}
 *
 * - `cmd` (required): the command of the route (table below).
 * - `queue`, `name`: path segments as JSON strings; `id`: the path's job id as a JSON number
 *   (a string of digits is accepted too). Written only for routes that have them.
 * - `query`: the query parameters the route reads, as strings (`{"count":"10"}`); optional.
 * - `incoming`: true only for POST /webhooks/incoming/{queue}: the whole body is the job's data.
 * - `body`: the raw request body, written verbatim and LAST, or `null` / omitted when the request
 *   has none. The decoder checks that `body` occurs once and is the last member, so a body that is
 *   not exactly one JSON value (say `1,"cmd":"PAUSE"`) cannot smuggle members into the wrapper;
 *   it is answered `Invalid JSON`.
 *
 * | route                                | cmd              | fields                                      |
 * |--------------------------------------|------------------|---------------------------------------------|
 * | GET /queues                          | LISTQUEUES       |                                             |
 * | POST /queues/{q}/jobs                | PUSH             | body: the job (`data` required)             |
 * | (batch push route, if offered)       | PUSHB            | body: `{"jobs":[…]}` or `[…]`               |
 * | GET /queues/{q}/jobs                 | PULLB            | query count (1), timeout ms (0)             |
 * | (single pull route, if offered)      | PULL             | query timeout ms (0)                        |
 * | POST /queues/{q}/pause, /resume      | PAUSE, RESUME    |                                             |
 * | GET /queues/{q}/dlq                  | DLQ              | query count (100, capped at the batch limit)|
 * | POST /queues/{q}/dlq/retry           | RETRYDLQ         | `id` or query id (optional: all)            |
 * | POST, DELETE /queues/{q}/rate-limit  | RATELIMIT, RATELIMITCLEAR | body `{"limit":N}`                 |
 * | POST, DELETE /queues/{q}/concurrency | SETCONCURRENCY, CLEARCONCURRENCY | body `{"limit":N}`          |
 * | GET /jobs                            | JOBS             | query queue, state, limit (100), offset (0) |
 * | GET /jobs/{id}                       | GETJOB           |                                             |
 * | POST /jobs/{id}/ack                  | ACK              | body `{"result":…}` (optional)              |
 * | POST /jobs/{id}/fail                 | FAIL             | body `{"error":"…"}` (optional)             |
 * | POST /jobs/{id}/cancel               | CANCEL           |                                             |
 * | POST /jobs/{id}/progress             | PROGRESS         | body `{"progress":N,"message":"…"}`         |
 * | GET /jobs/{id}/progress, /result     | GETPROGRESS, GETRESULT |                                       |
 * | (state route, if offered)            | GETSTATE         |                                             |
 * | (batch ack route, if offered)        | ACKB             | body `{"ids":[…]}` or `[…]`                 |
 * | GET /crons                           | CRONLIST         |                                             |
 * | POST /crons/{name}                   | CRON             | body `{"queue","schedule","data","priority"}` |
 * | DELETE /crons/{name}                 | CRONDELETE       |                                             |
 * | GET /stats, GET /metrics             | STATS, METRICS   |                                             |
 * | POST /webhooks/incoming/{q}          | PUSH + incoming  | body: the data                              |
 */
import {
  ackIds,
  cronRequest,
  DEFAULT_LIST_COUNT,
  type DecodeOptions,
  jobInput,
  jobInputs,
  listCount,
  optPayload,
  optQueueField,
  progressValue,
  queueField,
} from './commands.js';
import { parseJson } from './decode-error.js';
import { defaultJobInput } from '../engine/job-defaults.js';
import { errors, type FlashqError } from '../base/errors.js';
import {
  cronName,
  isObj,
  lookup,
  MAX_SAFE,
  type Obj,
  optFilterState,
  optStr,
  reqId,
  reqInt,
  UINT32_MAX,
} from './fields.js';
import { type JsonWalk, keyBytes, MEMBER_ABSENT, skipWs } from './json-walk.js';
import type { RawJsonSource } from './payload-text.js';
import type { Request } from './request.js';

const BODY = keyBytes('body');
const EMPTY: Obj = Object.freeze({}) as Obj;

function invalidParam(key: string, problem: string): FlashqError {
  return errors.badRequest(`Invalid parameter "${key}": ${problem}`);
}

const INTEGER = /^-?\d{1,16}$/;

/** A query parameter (a string, or a number if the front already parsed it) as an integer. */
function queryInt<D extends number | null>(w: Obj, key: string, min: number, max: number, def: D): number | D {
  const q = isObj(w.query) ? w.query : EMPTY;
  const v = q[key];
  if (v === undefined || v === null || v === '') return def;
  const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw invalidParam(key, 'expected an integer');
  if (n < min || n > max) throw invalidParam(key, `out of range (${min}..${max})`);
  return n;
}

function queryValue(w: Obj, key: string): unknown {
  return isObj(w.query) ? w.query[key] : undefined;
}

/** The path's job id: a number, or digits if the front passed the segment as a string. */
function pathId(w: Obj): number {
  const v = w.id;
  return reqId(typeof v === 'string' && INTEGER.test(v) ? Number(v) : v);
}

/** The body as an object of fields; no body reads as an empty object. */
function bodyFields(w: Obj): Obj {
  const b = w.body;
  if (b === undefined || b === null) return EMPTY;
  if (!isObj(b)) throw errors.badRequest('Invalid request body: expected a JSON object');
  return b;
}

/** A batch body: `[…]` or `{"<key>":[…]}`. */
function bodyList(w: Obj, key: string): unknown {
  const b = w.body;
  return Array.isArray(b) ? b : bodyFields(w)[key];
}

type HttpDecoder = (w: Obj, payload: RawJsonSource, opts: DecodeOptions) => Request;

const HTTP_COMMANDS = lookup<HttpDecoder>({
  PUSH: (w, p, opts) => {
    const queue = queueField(w.queue);
    if (w.incoming !== true) return { cmd: 'PUSH', queue, job: jobInput(bodyFields(w), -1, p, opts) };
    if (w.body === undefined || w.body === null) throw errors.badRequest('Missing request body');
    return { cmd: 'PUSH', queue, job: defaultJobInput(p.rootText(w.body)) };
  },
  PUSHB: (w, p, opts) => ({ cmd: 'PUSHB', queue: queueField(w.queue), jobs: jobInputs(bodyList(w, 'jobs'), p, opts) }),
  PULL: (w) => ({ cmd: 'PULL', queue: queueField(w.queue), timeout: queryInt(w, 'timeout', 0, MAX_SAFE, 0) }),
  PULLB: (w, _p, opts) => {
    const queue = queueField(w.queue);
    const count = queryInt(w, 'count', 1, MAX_SAFE, 1);
    if (count > opts.maxBatch) throw errors.batchTooLarge(opts.maxBatch);
    return { cmd: 'PULLB', queue, count, timeout: queryInt(w, 'timeout', 0, MAX_SAFE, 0) };
  },
  ACK: (w, p) => ({ cmd: 'ACK', id: pathId(w), result: optPayload(bodyFields(w).result, 'result', p) }),
  ACKB: (w, _p, opts) => ({ cmd: 'ACKB', ids: ackIds(bodyList(w, 'ids'), opts) }),
  FAIL: (w) => ({ cmd: 'FAIL', id: pathId(w), error: optStr(bodyFields(w).error, 'error', -1) }),
  CANCEL: (w) => ({ cmd: 'CANCEL', id: pathId(w) }),
  PROGRESS: (w) => {
    const body = bodyFields(w);
    return { cmd: 'PROGRESS', id: pathId(w), progress: progressValue(body.progress), message: optStr(body.message, 'message', -1) };
  },
  GETPROGRESS: (w) => ({ cmd: 'GETPROGRESS', id: pathId(w) }),
  GETJOB: (w) => ({ cmd: 'GETJOB', id: pathId(w) }),
  GETSTATE: (w) => ({ cmd: 'GETSTATE', id: pathId(w) }),
  GETRESULT: (w) => ({ cmd: 'GETRESULT', id: pathId(w) }),
  DLQ: (w, _p, opts) => ({
    cmd: 'DLQ',
    queue: queueField(w.queue),
    count: listCount(queryInt(w, 'count', 1, MAX_SAFE, DEFAULT_LIST_COUNT), opts),
  }),
  RETRYDLQ: (w) => ({
    cmd: 'RETRYDLQ',
    queue: queueField(w.queue),
    id: w.id !== undefined && w.id !== null ? pathId(w) : queryInt(w, 'id', 1, MAX_SAFE, null),
  }),
  RATELIMIT: (w) => ({ cmd: 'RATELIMIT', queue: queueField(w.queue), limit: reqInt(bodyFields(w).limit, 'limit', -1, 1, UINT32_MAX) }),
  RATELIMITCLEAR: (w) => ({ cmd: 'RATELIMITCLEAR', queue: queueField(w.queue) }),
  SETCONCURRENCY: (w) => ({
    cmd: 'SETCONCURRENCY',
    queue: queueField(w.queue),
    limit: reqInt(bodyFields(w).limit, 'limit', -1, 1, UINT32_MAX),
  }),
  CLEARCONCURRENCY: (w) => ({ cmd: 'CLEARCONCURRENCY', queue: queueField(w.queue) }),
  PAUSE: (w) => ({ cmd: 'PAUSE', queue: queueField(w.queue) }),
  RESUME: (w) => ({ cmd: 'RESUME', queue: queueField(w.queue) }),
  LISTQUEUES: () => ({ cmd: 'LISTQUEUES' }),
  CRON: (w, p) => {
    const body = bodyFields(w);
    return cronRequest(body, w.name ?? body.name, p);
  },
  CRONDELETE: (w) => ({ cmd: 'CRONDELETE', name: cronName(w.name) }),
  CRONLIST: () => ({ cmd: 'CRONLIST' }),
  STATS: () => ({ cmd: 'STATS' }),
  METRICS: () => ({ cmd: 'METRICS' }),
  JOBS: (w, _p, opts) => ({
    cmd: 'JOBS',
    queue: optQueueField(queryValue(w, 'queue') || null),
    state: optFilterState(queryValue(w, 'state') || null, 'state'),
    limit: listCount(queryInt(w, 'limit', 1, MAX_SAFE, DEFAULT_LIST_COUNT), opts),
    offset: queryInt(w, 'offset', 0, MAX_SAFE, 0),
  }),
});

/** `walk` is the calling decoder's, used to find the body's span. */
export function decodeHttp(buf: Buffer, opts: DecodeOptions, raw: RawJsonSource, walk: JsonWalk): Request {
  const w = parseJson(buf, null);
  if (!isObj(w)) throw errors.badRequest('Request must be a JSON object');
  const cmd = w.cmd;
  if (typeof cmd !== 'string') throw errors.badRequest('Missing field "cmd"');
  const decode = HTTP_COMMANDS[cmd];
  if (decode === undefined) throw errors.unknownCommand(cmd);
  const end = buf.length;
  const bs = walk.findMember(buf, skipWs(buf, 0, end), end, BODY);
  if (bs >= 0) {
    if (walk.matches !== 1 || skipWs(buf, walk.valueEnd, end) !== walk.objectEnd - 1) {
      throw errors.invalidJson('the request body is not a single JSON value');
    }
    raw.reset(buf, bs, walk.valueEnd, Array.isArray(w.body));
  } else if (bs !== MEMBER_ABSENT) {
    throw errors.invalidJson('the request body is not a single JSON value');
  } else raw.reset(buf, 0, 0, false);
  return decode(w, raw, opts);
}
