import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unpack } from 'msgpackr';
import { AnswerWriter } from '../../src/protocol/answer-writer.js';
import { AnswerEncoder, decodeInternalAnswer, httpStatusOf } from '../../src/protocol/encode.js';
import { errors, FlashqError } from '../../src/base/errors.js';
import type { Request } from '../../src/protocol/request.js';
import { Format, type Result } from '../../src/protocol/result.js';
import { cronView, jobView, queueInfo, text } from './helpers.js';

const encoder = new AnswerEncoder();
const encodeAnswer = (format: Format, request: Request, result: Result, reqId: string | number | null) => encoder.answer(format, request, result, reqId);
const encodeError = (format: Format, err: FlashqError, reqId: string | number | null) => encoder.error(format, err, reqId);

const JOB_KEYS = [
  'id',
  'queue',
  'data',
  'priority',
  'created_at',
  'run_at',
  'started_at',
  'attempts',
  'max_attempts',
  'backoff',
  'ttl',
  'timeout',
  'unique_key',
  'depends_on',
  'progress',
  'progress_msg',
  'tags',
  'lifo',
];

const job = jobView();
const JOB =
  '{"id":257,"queue":"emails","data":{"email":"a@example.com"},"priority":10,"created_at":1704067200000,"run_at":1704067205000,' +
  '"started_at":0,"attempts":0,"max_attempts":3,"backoff":1000,"ttl":null,"timeout":null,"unique_key":null,"depends_on":[],' +
  '"progress":0,"progress_msg":null,"tags":[],"lifo":false}';
const full = jobView({
  id: 513,
  data: '[1, "é", {"k":null}]',
  startedAt: 1704067210000,
  attempts: 1,
  ttl: 3600000,
  timeout: 30000,
  uniqueKey: 'user-"123"',
  dependsOn: [1, 2],
  progress: 75,
  progressMsg: 'Step 3/4',
  tags: ['email', 'marketing'],
  lifo: true,
  state: 'active',
});
const FULL =
  '{"id":513,"queue":"emails","data":[1, "é", {"k":null}],"priority":10,"created_at":1704067200000,"run_at":1704067205000,' +
  '"started_at":1704067210000,"attempts":1,"max_attempts":3,"backoff":1000,"ttl":3600000,"timeout":30000,"unique_key":"user-\\"123\\"",' +
  '"depends_on":[1,2],"progress":75,"progress_msg":"Step 3/4","tags":["email","marketing"],"lifo":true}';

const q = (cmd: string, extra: Record<string, unknown> = {}) => ({ cmd, ...extra }) as Request;
const counters = { totalPushed: 1000000, totalCompleted: 999000, totalFailed: 500, latencySumMs: 123 };

/** [name, request, result, the TCP JSON answer without reqId] */
const TCP_CASES: Array<[string, Request, Result, string]> = [
  ['PUSH', q('PUSH'), { kind: 'pushed', jobs: [job] }, '{"ok":true,"id":257}'],
  ['PUSHB', q('PUSHB'), { kind: 'pushed', jobs: [job, full] }, '{"ok":true,"ids":[257,513]}'],
  ['PUSHB empty', q('PUSHB'), { kind: 'pushed', jobs: [] }, '{"ok":true,"ids":[]}'],
  ['PULL', q('PULL'), { kind: 'jobs', jobs: [job] }, `{"ok":true,"job":${JOB}}`],
  ['PULL timed out', q('PULL'), { kind: 'jobs', jobs: [] }, '{"ok":true,"job":null}'],
  ['PULLB', q('PULLB'), { kind: 'jobs', jobs: [job, full] }, `{"ok":true,"jobs":[${JOB},${FULL}]}`],
  ['PULLB empty', q('PULLB'), { kind: 'jobs', jobs: [] }, '{"ok":true,"jobs":[]}'],
  ['DLQ', q('DLQ'), { kind: 'jobs', jobs: [full] }, `{"ok":true,"jobs":[${FULL}]}`],
  ['ACK', q('ACK'), { kind: 'ok' }, '{"ok":true}'],
  ['ACKB', q('ACKB'), { kind: 'count', count: 3 }, '{"ok":true,"ids":[3]}'],
  ['RETRYDLQ', q('RETRYDLQ'), { kind: 'count', count: 0 }, '{"ok":true,"ids":[0]}'],
  ['GETJOB', q('GETJOB'), { kind: 'job', job, state: 'waiting' }, `{"ok":true,"job":${JOB},"state":"waiting"}`],
  ['GETJOB unknown', q('GETJOB'), { kind: 'job', job: null, state: 'unknown' }, '{"ok":true,"job":null,"state":"unknown"}'],
  ['GETSTATE', q('GETSTATE'), { kind: 'state', id: 5, state: 'unknown' }, '{"ok":true,"id":5,"state":"unknown"}'],
  ['GETRESULT', q('GETRESULT'), { kind: 'result', id: 5, result: '{"sent":true}' }, '{"ok":true,"id":5,"result":{"sent":true}}'],
  ['GETRESULT none', q('GETRESULT'), { kind: 'result', id: 5, result: null }, '{"ok":true,"id":5,"result":null}'],
  [
    'GETPROGRESS',
    q('GETPROGRESS'),
    { kind: 'progress', id: 5, progress: 75, message: 'Step 3/4' },
    '{"ok":true,"progress":{"id":5,"progress":75,"message":"Step 3/4"}}',
  ],
  ['GETPROGRESS no message', q('GETPROGRESS'), { kind: 'progress', id: 5, progress: 0, message: null }, '{"ok":true,"progress":{"id":5,"progress":0,"message":null}}'],
  [
    'LISTQUEUES',
    q('LISTQUEUES'),
    { kind: 'queues', queues: [queueInfo(), queueInfo({ name: 'b', paused: true, rateLimit: 100, concurrencyLimit: 5 })] },
    '{"ok":true,"queues":[{"name":"emails","pending":150,"processing":5,"dlq":2,"paused":false,"rate_limit":null,"concurrency_limit":null},' +
      '{"name":"b","pending":150,"processing":5,"dlq":2,"paused":true,"rate_limit":100,"concurrency_limit":5}]}',
  ],
  ['LISTQUEUES empty', q('LISTQUEUES'), { kind: 'queues', queues: [] }, '{"ok":true,"queues":[]}'],
  [
    'CRONLIST',
    q('CRONLIST'),
    { kind: 'crons', crons: [cronView()] },
    '{"ok":true,"crons":[{"name":"daily-cleanup","queue":"maintenance","data":{"action":"cleanup"},"schedule":"0 0 3 * * *","priority":0,"next_run":1704067200000}]}',
  ],
  ['CRON', q('CRON'), { kind: 'cron', cron: cronView() }, '{"ok":true}'],
  [
    'STATS',
    q('STATS'),
    { kind: 'stats', stats: { queued: 1500, processing: 25, delayed: 100, dlq: 5 } },
    '{"ok":true,"queued":1500,"processing":25,"delayed":100,"dlq":5}',
  ],
  [
    'METRICS',
    q('METRICS'),
    { kind: 'metrics', counters, queues: [queueInfo({ rateLimit: 10 })], jobsPerSecond: 1500.5, avgLatencyMs: 45.2 },
    '{"ok":true,"metrics":{"total_pushed":1000000,"total_completed":999000,"total_failed":500,"jobs_per_second":1500.5,"avg_latency_ms":45.2,' +
      '"queues":[{"name":"emails","pending":150,"processing":5,"dlq":2,"rate_limit":10}]}}',
  ],
  [
    'METRICS without a rate yet',
    q('METRICS'),
    { kind: 'metrics', counters, queues: [], jobsPerSecond: NaN, avgLatencyMs: Infinity },
    '{"ok":true,"metrics":{"total_pushed":1000000,"total_completed":999000,"total_failed":500,"jobs_per_second":0,"avg_latency_ms":0,"queues":[]}}',
  ],
  ['JOBS', q('JOBS'), { kind: 'jobs', jobs: [job] }, `{"ok":true,"jobs":[${JOB}]}`],
];
for (const cmd of ['FAIL', 'CANCEL', 'PROGRESS', 'PAUSE', 'RESUME', 'RATELIMIT', 'RATELIMITCLEAR', 'SETCONCURRENCY', 'CLEARCONCURRENCY', 'CRONDELETE']) {
  TCP_CASES.push([cmd, q(cmd), { kind: 'ok' }, '{"ok":true}']);
}

function withReqId(answer: string, reqId: string): string {
  return answer.replace('{"ok":true', `{"ok":true,"reqId":${reqId}`);
}

describe('encodeAnswer(TcpJson): compat.md shapes', () => {
  for (const [name, request, result, expected] of TCP_CASES) {
    it(name, () => {
      assert.equal(text(encodeAnswer(Format.TcpJson, request, result, null)), expected + '\n');
      assert.equal(text(encodeAnswer(Format.TcpJson, request, result, 'r-1')), withReqId(expected, '"r-1"') + '\n');
      assert.equal(text(encodeAnswer(Format.TcpJson, request, result, 42)), withReqId(expected, '42') + '\n');
    });
  }

  it('JOB has exactly compat.md’s keys in order, absent optionals null', () => {
    for (const j of [job, full]) {
      const parsed = JSON.parse(text(encodeAnswer(Format.TcpJson, q('PULL'), { kind: 'jobs', jobs: [j] }, null))) as { job: Record<string, unknown> };
      assert.deepEqual(Object.keys(parsed.job), JOB_KEYS);
    }
    const a = JSON.parse(text(encodeAnswer(Format.TcpJson, q('PULL'), { kind: 'jobs', jobs: [job] }, null))) as { job: Record<string, unknown> };
    assert.equal(a.job.ttl, null);
    assert.equal(a.job.timeout, null);
    assert.equal(a.job.unique_key, null);
    assert.equal(a.job.progress_msg, null);
    assert.deepEqual(a.job.depends_on, []);
  });

  it('puts reqId right after ok', () => {
    const s = text(encodeAnswer(Format.TcpJson, q('STATS'), { kind: 'stats', stats: { queued: 1, processing: 2, delayed: 3, dlq: 4 } }, 'x"y'));
    assert.deepEqual(Object.keys(JSON.parse(s) as object), ['ok', 'reqId', 'queued', 'processing', 'delayed', 'dlq']);
    assert.equal((JSON.parse(s) as { reqId: string }).reqId, 'x"y');
  });

  it('errors: {"ok":false,"data":null,"error":"…"} with the reqId echoed', () => {
    assert.equal(text(encodeError(Format.TcpJson, errors.jobNotFound(5), null)), '{"ok":false,"data":null,"error":"Job 5 not found"}\n');
    assert.equal(text(encodeError(Format.TcpJson, errors.queuePaused(), 7)), '{"ok":false,"reqId":7,"data":null,"error":"Queue paused"}\n');
    assert.equal(text(encodeError(Format.TcpJson, errors.duplicate('a"b'), 'r')), '{"ok":false,"reqId":"r","data":null,"error":"Duplicate job: key a\\"b"}\n');
  });

  it('writes big answers in one piece, non-ASCII data intact, as a single line', () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => jobView({ id: i + 1, data: JSON.stringify({ i, s: 'é😀'.repeat(200) }) }));
    const bytes = encodeAnswer(Format.TcpJson, q('PULLB'), { kind: 'jobs', jobs }, 1);
    const s = text(bytes);
    assert.equal(s.indexOf('\n'), s.length - 1);
    const parsed = JSON.parse(s) as { jobs: Array<{ id: number; data: { i: number; s: string } }> };
    assert.equal(parsed.jobs.length, 1000);
    assert.equal(parsed.jobs[999]!.data.s, 'é😀'.repeat(200));
    // the encoder's scratch is reused: an earlier answer must not change
    const small = encodeAnswer(Format.TcpJson, q('PUSH'), { kind: 'pushed', jobs: [job] }, null);
    encodeAnswer(Format.TcpJson, q('PUSH'), { kind: 'pushed', jobs: [full] }, null);
    assert.equal(text(small), '{"ok":true,"id":257}\n');
    assert.equal(text(bytes), s);
  });
});

describe('encodeAnswer(TcpMsgpack): the same objects, length-prefixed', () => {
  function unframe(bytes: Uint8Array): unknown {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(buf.readUInt32BE(0), buf.length - 4);
    return unpack(buf.subarray(4));
  }

  for (const [name, request, result] of TCP_CASES) {
    it(name, () => {
      for (const reqId of [null, 'r-1', 42]) {
        const expected: unknown = JSON.parse(text(encodeAnswer(Format.TcpJson, request, result, reqId)));
        const got = unframe(encodeAnswer(Format.TcpMsgpack, request, result, reqId));
        assert.deepEqual(got, expected);
        assert.deepEqual(Object.keys(got as object), Object.keys(expected as object));
      }
    });
  }

  it('keeps JOB key order', () => {
    const got = unframe(encodeAnswer(Format.TcpMsgpack, q('PULL'), { kind: 'jobs', jobs: [full] }, null)) as { job: object };
    assert.deepEqual(Object.keys(got.job), JOB_KEYS);
  });

  it('errors', () => {
    assert.deepEqual(unframe(encodeError(Format.TcpMsgpack, errors.rateLimited(), null)), { ok: false, data: null, error: 'Rate limited' });
    assert.deepEqual(unframe(encodeError(Format.TcpMsgpack, errors.rateLimited(), 'r')), { ok: false, reqId: 'r', data: null, error: 'Rate limited' });
  });
});

describe('encodeAnswer(Http): the envelope', () => {
  const http = (request: Request, result: Result): unknown => JSON.parse(text(encodeAnswer(Format.Http, request, result, null)));
  const env = (data: unknown) => ({ ok: true, data, error: null });
  const view = (j: typeof job, extra: Record<string, unknown>) => ({
    ...(JSON.parse(text(encodeAnswer(Format.TcpJson, q('PULL'), { kind: 'jobs', jobs: [j] }, null))) as { job: object }).job,
    ...extra,
  });

  it('PUSH answers the full job with its state', () => {
    const a = http(q('PUSH'), { kind: 'pushed', jobs: [job] }) as { data: object };
    assert.deepEqual(a, env(view(job, { state: 'waiting' })));
    assert.deepEqual(Object.keys(a.data), [...JOB_KEYS, 'state']);
    assert.equal(text(encodeAnswer(Format.Http, q('PUSH'), { kind: 'pushed', jobs: [job] }, null)).slice(0, 19), '{"ok":true,"data":{');
  });

  it('PUSHB answers the ids', () => {
    assert.deepEqual(http(q('PUSHB'), { kind: 'pushed', jobs: [job, full] }), env({ ids: [257, 513] }));
  });

  it('PULLB, DLQ and JOBS answer arrays of job views', () => {
    for (const cmd of ['PULLB', 'PULL', 'DLQ', 'JOBS']) {
      assert.deepEqual(http(q(cmd), { kind: 'jobs', jobs: [job, full] }), env([view(job, { state: 'waiting' }), view(full, { state: 'active' })]));
      assert.deepEqual(http(q(cmd), { kind: 'jobs', jobs: [] }), env([]));
    }
  });

  it('GETJOB answers the view with state, result and last error, and an unknown id is Job N not found (404)', () => {
    const done = jobView({ state: 'completed', result: '{"sent":true}' });
    const a = http(q('GETJOB', { id: 257 }), { kind: 'job', job: done, state: 'completed' }) as { data: object };
    assert.deepEqual(a, env(view(done, { state: 'completed', result: { sent: true }, error: null })));
    assert.deepEqual(Object.keys(a.data), [...JOB_KEYS, 'state', 'result', 'error']);
    const dead = jobView({ state: 'failed', error: 'SMTP "down"' });
    assert.deepEqual(http(q('GETJOB', { id: 257 }), { kind: 'job', job: dead, state: 'failed' }), env(view(dead, { state: 'failed', result: null, error: 'SMTP "down"' })));
    let thrown: unknown;
    try {
      encodeAnswer(Format.Http, q('GETJOB', { id: 12345 }), { kind: 'job', job: null, state: 'unknown' }, null);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof FlashqError);
    assert.equal(text(encodeError(Format.Http, thrown, null)), '{"ok":false,"data":null,"error":"Job 12345 not found"}');
    assert.equal(httpStatusOf(thrown), 404);
  });

  it('the other lookups', () => {
    assert.deepEqual(http(q('GETPROGRESS'), { kind: 'progress', id: 1, progress: 75, message: 'Processing step 3 of 4' }), env([75, 'Processing step 3 of 4']));
    assert.deepEqual(http(q('GETPROGRESS'), { kind: 'progress', id: 1, progress: 0, message: null }), env([0, null]));
    assert.deepEqual(http(q('GETRESULT'), { kind: 'result', id: 1, result: '{"sent":true}' }), env({ sent: true }));
    assert.deepEqual(http(q('GETRESULT'), { kind: 'result', id: 1, result: null }), env(null));
    assert.deepEqual(http(q('GETSTATE'), { kind: 'state', id: 1, state: 'delayed' }), env({ id: 1, state: 'delayed' }));
  });

  it('counts, lists and plain oks', () => {
    assert.deepEqual(http(q('RETRYDLQ'), { kind: 'count', count: 4 }), env(4));
    assert.deepEqual(http(q('ACKB'), { kind: 'count', count: 2 }), env(2));
    assert.deepEqual(
      http(q('LISTQUEUES'), { kind: 'queues', queues: [queueInfo()] }),
      env([{ name: 'emails', pending: 150, processing: 5, dlq: 2, paused: false, rate_limit: null, concurrency_limit: null, waiting: 140, delayed: 10, waiting_children: 0 }]),
    );
    const cron = { name: 'daily-cleanup', queue: 'maintenance', data: { action: 'cleanup' }, schedule: '0 0 3 * * *', priority: 0, next_run: 1704067200000 };
    assert.deepEqual(http(q('CRONLIST'), { kind: 'crons', crons: [cronView()] }), env([cron]));
    assert.deepEqual(http(q('CRON'), { kind: 'cron', cron: cronView() }), env(cron));
    assert.deepEqual(http(q('STATS'), { kind: 'stats', stats: { queued: 1500, processing: 25, delayed: 100, dlq: 5 } }), env({ queued: 1500, processing: 25, delayed: 100, dlq: 5 }));
    assert.deepEqual(
      http(q('METRICS'), { kind: 'metrics', counters, queues: [queueInfo()], jobsPerSecond: 1500.5, avgLatencyMs: 45.2 }),
      env({
        total_pushed: 1000000,
        total_completed: 999000,
        total_failed: 500,
        jobs_per_second: 1500.5,
        avg_latency_ms: 45.2,
        queues: [{ name: 'emails', pending: 150, processing: 5, dlq: 2, rate_limit: null }],
      }),
    );
    for (const cmd of ['ACK', 'FAIL', 'CANCEL', 'PROGRESS', 'PAUSE', 'RESUME', 'RATELIMIT', 'CRONDELETE']) assert.deepEqual(http(q(cmd), { kind: 'ok' }), env(null));
  });

  it('errors and their statuses', () => {
    assert.equal(text(encodeError(Format.Http, errors.queuePaused(), 'ignored')), '{"ok":false,"data":null,"error":"Queue paused"}');
    const statuses: Array<[FlashqError, number]> = [
      [errors.badRequest('x'), 400],
      [errors.invalidJson('x'), 400],
      [errors.invalidQueueName('a b'), 400],
      [errors.jobNotFound(1), 404],
      [errors.duplicate('k'), 409],
      [errors.payloadTooLarge(2_000_000), 413],
      [errors.rateLimited(), 429],
      [errors.authRequired(), 401],
      [errors.storageUnavailable(), 503],
      [errors.internal('x'), 500],
    ];
    for (const [e, status] of statuses) assert.equal(httpStatusOf(e), status, e.message);
  });
});

describe('encodeAnswer(Internal): the Result itself for the front’s merges', () => {
  const results: Result[] = [
    { kind: 'pushed', jobs: [job] },
    { kind: 'jobs', jobs: [job, full] },
    { kind: 'ok' },
    { kind: 'count', count: 3 },
    { kind: 'job', job: full, state: 'active' },
    { kind: 'job', job: null, state: 'unknown' },
    { kind: 'state', id: 1, state: 'failed' },
    { kind: 'result', id: 1, result: '{"a": [1, 2]}' },
    { kind: 'progress', id: 1, progress: 5, message: null },
    { kind: 'queues', queues: [queueInfo()] },
    { kind: 'crons', crons: [cronView()] },
    { kind: 'cron', cron: cronView() },
    { kind: 'stats', stats: { queued: 1, processing: 2, delayed: 3, dlq: 4 } },
    { kind: 'metrics', counters, queues: [queueInfo()], jobsPerSecond: 1.5, avgLatencyMs: 2 },
  ];
  for (const result of results) {
    it(`${result.kind} round-trips with payload texts unchanged`, () => {
      assert.deepEqual(decodeInternalAnswer(encodeAnswer(Format.Internal, q('STATS'), result, null)), result);
    });
  }

  it('keeps a job view’s fields even when the view is not a plain object', () => {
    // an engine may hand out views whose fields are prototype getters (JSON.stringify sees none)
    const proto = {};
    for (const [k, v] of Object.entries(job)) Object.defineProperty(proto, k, { get: () => (k === 'id' ? 9 : v) });
    const v = Object.create(proto) as typeof job;
    assert.equal(JSON.stringify(v), '{}');
    const r = decodeInternalAnswer(encodeAnswer(Format.Internal, q('PULLB'), { kind: 'jobs', jobs: [v] }, null));
    assert.deepEqual(r, { kind: 'jobs', jobs: [{ ...job, id: 9 }] });
  });

  it('an error answer is thrown back as the same FlashqError', () => {
    const bytes = encodeError(Format.Internal, errors.tooManyQueues(10000), null);
    assert.throws(
      () => decodeInternalAnswer(bytes),
      (e: unknown) => e instanceof FlashqError && e.code === errors.tooManyQueues(1).code && e.message === 'Too many queues (max 10000)',
    );
  });
});

describe('AnswerWriter.uint', () => {
  it('writes non-negative safe integers in decimal, as String() does', () => {
    const values = [0, 7, 9, 10, 99, 100, 257, 65_536, 2 ** 31, 2 ** 32 + 1, 1_234_567_890_123, Number.MAX_SAFE_INTEGER];
    const w = new AnswerWriter().begin();
    values.forEach((v, i) => (i === 0 ? w : w.byte(0x2c)).uint(v));
    assert.equal(w.finish().toString(), values.map(String).join(','));
  });

  it('grows the scratch when the ids outrun it', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => 9_007_199_254_000 + i);
    const w = new AnswerWriter().begin();
    for (const id of ids) w.uint(id).byte(0x20);
    assert.equal(w.finish().toString(), ids.map((id) => `${id} `).join(''));
  });
});
