import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError, type DecodeOptions, RequestDecoder } from '../../src/protocol/decode.js';
import { ErrorCode } from '../../src/base/errors.js';
import type { Request } from '../../src/protocol/request.js';
import { Format } from '../../src/protocol/result.js';
import { DEFAULT_JOB } from './helpers.js';

const decoder = new RequestDecoder();
const decodeRequest = (format: Format, bytes: Uint8Array, opts?: DecodeOptions) => decoder.decode(format, bytes, opts);


/** The wrapper as the HTTP front writes it: routing members first, the raw body last. */
function wrap(head: Record<string, unknown>, rawBody?: string): Buffer {
  const h = JSON.stringify(head).slice(0, -1);
  return Buffer.from(rawBody === undefined ? h + '}' : `${h},"body":${rawBody}}`);
}

function http(head: Record<string, unknown>, rawBody?: string): Request {
  const d = decodeRequest(Format.Http, wrap(head, rawBody));
  assert.equal(d.reqId, null);
  return d.request;
}

function httpError(head: Record<string, unknown>, rawBody?: string): DecodeError {
  try {
    http(head, rawBody);
  } catch (e) {
    assert.ok(e instanceof DecodeError);
    return e;
  }
  assert.fail('expected a DecodeError');
}

describe('decodeRequest(Http): the front’s wrapper', () => {
  it('PUSH takes the job from the body and keeps its data text', () => {
    assert.deepEqual(http({ cmd: 'PUSH', queue: 'emails' }, '{"data":{"email":"user@example.com"},"priority":10,"max_attempts":3}'), {
      cmd: 'PUSH',
      queue: 'emails',
      job: { ...DEFAULT_JOB, data: '{"email":"user@example.com"}', priority: 10, maxAttempts: 3 },
    });
  });

  it('PUSH of a pretty-printed body stores data on one line', () => {
    const r = http({ cmd: 'PUSH', queue: 'q' }, '{\n  "data": {\n    "a": 1,\n    "b": [1, 2]\n  }\n}');
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"a":1,"b":[1,2]}');
  });

  it('an incoming webhook body is the data', () => {
    assert.deepEqual(http({ cmd: 'PUSH', queue: 'hooks', incoming: true }, '{"any":"data","from":"external-service"}'), {
      cmd: 'PUSH',
      queue: 'hooks',
      job: { ...DEFAULT_JOB, data: '{"any":"data","from":"external-service"}' },
    });
    const pretty = http({ cmd: 'PUSH', queue: 'hooks', incoming: true }, '{\r\n "a": 1\r\n}');
    assert.equal(pretty.cmd === 'PUSH' && pretty.job.data, '{"a":1}');
    assert.equal(httpError({ cmd: 'PUSH', queue: 'hooks', incoming: true }).message, 'Missing request body');
  });

  it('PUSHB takes {"jobs":[…]} or a bare array', () => {
    const expected = { cmd: 'PUSHB', queue: 'q', jobs: [{ ...DEFAULT_JOB, data: '{"a":1}' }, { ...DEFAULT_JOB, data: '2', lifo: true }] };
    assert.deepEqual(http({ cmd: 'PUSHB', queue: 'q' }, '{"jobs":[{"data":{"a":1}},{"data":2,"lifo":true}]}'), expected);
    assert.deepEqual(http({ cmd: 'PUSHB', queue: 'q' }, '[{"data":{"a":1}},{"data":2,"lifo":true}]'), expected);
    assert.equal(httpError({ cmd: 'PUSHB', queue: 'q' }, '[{"data":1},{"priority":1}]').message, 'Missing field "jobs[1].data"');
  });

  it('PULLB and PULL read count and timeout from the query (timeout default 0)', () => {
    assert.deepEqual(http({ cmd: 'PULLB', queue: 'q' }), { cmd: 'PULLB', queue: 'q', count: 1, timeout: 0 });
    assert.deepEqual(http({ cmd: 'PULLB', queue: 'q', query: { count: '10', timeout: '500' } }), { cmd: 'PULLB', queue: 'q', count: 10, timeout: 500 });
    assert.deepEqual(http({ cmd: 'PULL', queue: 'q', query: {} }), { cmd: 'PULL', queue: 'q', timeout: 0 });
    assert.equal(httpError({ cmd: 'PULLB', queue: 'q', query: { count: '1001' } }).message, 'Batch too large (max 1000)');
    assert.equal(httpError({ cmd: 'PULLB', queue: 'q', query: { count: 'ten' } }).message, 'Invalid parameter "count": expected an integer');
    assert.equal(httpError({ cmd: 'PULLB', queue: 'q', query: { count: '0' } }).message, 'Invalid parameter "count": out of range (1..9007199254740991)');
    assert.equal(httpError({ cmd: 'PULLB', queue: 'q', query: { timeout: '-1' } }).message, 'Invalid parameter "timeout": out of range (0..9007199254740991)');
  });

  it('DLQ, RETRYDLQ, JOBS read the query', () => {
    assert.deepEqual(http({ cmd: 'DLQ', queue: 'q' }), { cmd: 'DLQ', queue: 'q', count: 100 });
    assert.deepEqual(http({ cmd: 'DLQ', queue: 'q', query: { count: '7' } }), { cmd: 'DLQ', queue: 'q', count: 7 });
    assert.deepEqual(http({ cmd: 'RETRYDLQ', queue: 'q' }), { cmd: 'RETRYDLQ', queue: 'q', id: null });
    assert.deepEqual(http({ cmd: 'RETRYDLQ', queue: 'q', query: { id: '12' } }), { cmd: 'RETRYDLQ', queue: 'q', id: 12 });
    assert.deepEqual(http({ cmd: 'RETRYDLQ', queue: 'q', id: 13 }), { cmd: 'RETRYDLQ', queue: 'q', id: 13 });
    assert.deepEqual(http({ cmd: 'JOBS' }), { cmd: 'JOBS', queue: null, state: null, limit: 100, offset: 0 });
    assert.deepEqual(http({ cmd: 'JOBS', query: { queue: 'emails', state: 'active', limit: '5000', offset: '10' } }), {
      cmd: 'JOBS',
      queue: 'emails',
      state: 'active',
      limit: 1000,
      offset: 10,
    });
    assert.equal(
      httpError({ cmd: 'JOBS', query: { state: 'done' } }).message,
      'Invalid field "state": expected one of waiting, delayed, active, completed, failed, waiting-children',
    );
  });

  it('job routes take the id from the wrapper and the rest from the body', () => {
    assert.deepEqual(http({ cmd: 'GETJOB', id: 5 }), { cmd: 'GETJOB', id: 5 });
    assert.deepEqual(http({ cmd: 'GETJOB', id: '6' }), { cmd: 'GETJOB', id: 6 });
    assert.deepEqual(http({ cmd: 'ACK', id: 5 }), { cmd: 'ACK', id: 5, result: null });
    assert.deepEqual(http({ cmd: 'ACK', id: 5 }, 'null'), { cmd: 'ACK', id: 5, result: null });
    assert.deepEqual(http({ cmd: 'ACK', id: 5 }, '{"result":{"sent":true,"message_id":"abc123"}}'), {
      cmd: 'ACK',
      id: 5,
      result: '{"sent":true,"message_id":"abc123"}',
    });
    assert.deepEqual(http({ cmd: 'FAIL', id: 5 }, '{"error":"SMTP connection failed"}'), { cmd: 'FAIL', id: 5, error: 'SMTP connection failed' });
    assert.deepEqual(http({ cmd: 'CANCEL', id: 5 }), { cmd: 'CANCEL', id: 5 });
    assert.deepEqual(http({ cmd: 'PROGRESS', id: 5 }, '{"progress":75,"message":"Processing step 3 of 4"}'), {
      cmd: 'PROGRESS',
      id: 5,
      progress: 75,
      message: 'Processing step 3 of 4',
    });
    assert.deepEqual(http({ cmd: 'GETPROGRESS', id: 5 }), { cmd: 'GETPROGRESS', id: 5 });
    assert.deepEqual(http({ cmd: 'GETRESULT', id: 5 }), { cmd: 'GETRESULT', id: 5 });
    assert.deepEqual(http({ cmd: 'GETSTATE', id: 5 }), { cmd: 'GETSTATE', id: 5 });
    assert.deepEqual(http({ cmd: 'ACKB' }, '{"ids":[1,2]}'), { cmd: 'ACKB', ids: [1, 2] });
    assert.deepEqual(http({ cmd: 'ACKB' }, '[3]'), { cmd: 'ACKB', ids: [3] });
    assert.equal(httpError({ cmd: 'GETJOB', id: 'abc' }).message, 'Invalid field "id": expected an integer');
    assert.equal(httpError({ cmd: 'GETJOB' }).message, 'Missing field "id"');
    assert.equal(httpError({ cmd: 'PROGRESS', id: 5 }, '{"message":"x"}').message, 'Missing field "progress"');
    assert.equal(httpError({ cmd: 'FAIL', id: 5 }, '"just a string"').message, 'Invalid request body: expected a JSON object');
  });

  it('queue settings', () => {
    assert.deepEqual(http({ cmd: 'RATELIMIT', queue: 'q' }, '{"limit":100}'), { cmd: 'RATELIMIT', queue: 'q', limit: 100 });
    assert.deepEqual(http({ cmd: 'SETCONCURRENCY', queue: 'q' }, '{"limit":5}'), { cmd: 'SETCONCURRENCY', queue: 'q', limit: 5 });
    for (const cmd of ['RATELIMITCLEAR', 'CLEARCONCURRENCY', 'PAUSE', 'RESUME']) assert.deepEqual(http({ cmd, queue: 'q' }, 'null'), { cmd, queue: 'q' });
    assert.equal(httpError({ cmd: 'RATELIMIT', queue: 'q' }).message, 'Missing field "limit"');
    assert.equal(httpError({ cmd: 'PAUSE', queue: 'a/b' }).message, 'Invalid queue name: "a/b"');
  });

  it('crons: the name from the path, the rest from the body', () => {
    assert.deepEqual(http({ cmd: 'CRON', name: 'daily-cleanup' }, '{"queue":"maintenance","data":{"action":"cleanup"},"schedule":"0 0 3 * * *","priority":0}'), {
      cmd: 'CRON',
      name: 'daily-cleanup',
      queue: 'maintenance',
      data: '{"action":"cleanup"}',
      schedule: '0 0 3 * * *',
      priority: 0,
    });
    assert.deepEqual(http({ cmd: 'CRONDELETE', name: 'daily-cleanup' }), { cmd: 'CRONDELETE', name: 'daily-cleanup' });
    for (const cmd of ['CRONLIST', 'LISTQUEUES', 'STATS', 'METRICS']) assert.deepEqual(http({ cmd }), { cmd });
  });

  it('answers a body that is not JSON with Invalid JSON', () => {
    const e = httpError({ cmd: 'PUSH', queue: 'q' }, '{"data":');
    assert.match(e.message, /^Invalid JSON: /);
    assert.equal(e.code, ErrorCode.BadRequest);
  });

  it('refuses a body that would smuggle members into the wrapper', () => {
    for (const body of ['1,"cmd":"PAUSE"', '{"data":1},"incoming":true', '1,"body":2', '{"data":1}, "queue":"other"']) {
      assert.equal(httpError({ cmd: 'PUSH', queue: 'q' }, body).message, 'Invalid JSON: the request body is not a single JSON value', body);
    }
  });

  it('answers unknown commands and oversize data like TCP', () => {
    assert.equal(httpError({ cmd: 'NOPE' }).message, 'Unknown command: NOPE');
    const big = `{"data":"${'x'.repeat(1_100_000)}"}`;
    assert.equal(httpError({ cmd: 'PUSH', queue: 'q' }, big).message, 'Payload too large (1100002 bytes, max 1048576)');
    assert.equal(httpError({ cmd: 'PUSH', queue: 'q' }, big).code, ErrorCode.TooLarge);
  });
});
