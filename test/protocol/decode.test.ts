import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import { DecodeError, RequestDecoder, type DecodeOptions } from '../../src/protocol/decode.js';
import { ErrorCode } from '../../src/base/errors.js';
import type { Request } from '../../src/protocol/request.js';
import { Format } from '../../src/protocol/result.js';
import { DEFAULT_JOB } from './helpers.js';

const decoder = new RequestDecoder();
const decodeRequest = (format: Format, bytes: Uint8Array, opts?: DecodeOptions) => decoder.decode(format, bytes, opts);


/** Decode the same command from a JSON line and from a MessagePack map; both must agree. */
function both(o: Record<string, unknown>, opts?: DecodeOptions): Request {
  const fromJson = decodeRequest(Format.TcpJson, Buffer.from(JSON.stringify(o)), opts);
  const fromMsgpack = decodeRequest(Format.TcpMsgpack, pack(o), opts);
  assert.deepEqual(fromMsgpack, fromJson);
  return fromJson.request;
}

function errorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a DecodeError');
}

/** The error text a command gets, identical from JSON and MessagePack. */
function rejects(o: Record<string, unknown>, message: string, opts?: DecodeOptions): void {
  const j = errorOf(() => decodeRequest(Format.TcpJson, Buffer.from(JSON.stringify(o)), opts));
  const m = errorOf(() => decodeRequest(Format.TcpMsgpack, pack(o), opts));
  assert.equal(j.message, message);
  assert.equal(m.message, message);
}

function jsonLine(s: string, opts?: DecodeOptions): Request {
  return decodeRequest(Format.TcpJson, Buffer.from(s), opts).request;
}

describe('decodeRequest: every command, JSON and MessagePack alike', () => {
  it('PUSH with defaults', () => {
    assert.deepEqual(both({ cmd: 'PUSH', queue: 'emails', data: { email: 'a@b.c' } }), {
      cmd: 'PUSH',
      queue: 'emails',
      job: { data: '{"email":"a@b.c"}', ...DEFAULT_JOB },
    });
  });

  it('PUSH with every field', () => {
    const r = both({
      cmd: 'PUSH',
      queue: 'emails',
      data: { email: 'user@example.com' },
      priority: 10,
      delay: 5000,
      ttl: 3600000,
      timeout: 30000,
      max_attempts: 3,
      backoff: 2000,
      unique_key: 'user-123',
      depends_on: [1, 2],
      tags: ['email'],
      lifo: true,
    });
    assert.deepEqual(r, {
      cmd: 'PUSH',
      queue: 'emails',
      job: {
        data: '{"email":"user@example.com"}',
        priority: 10,
        delay: 5000,
        ttl: 3600000,
        timeout: 30000,
        maxAttempts: 3,
        backoff: 2000,
        uniqueKey: 'user-123',
        dependsOn: [1, 2],
        tags: ['email'],
        lifo: true,
        block: null,
        ds: 0,
        de: 0,
      },
    });
  });

  it('PUSH: 0 means "not set" for max_attempts, ttl and timeout; null means absent', () => {
    const r = both({ cmd: 'PUSH', queue: 'q', data: 1, max_attempts: 0, ttl: 0, timeout: 0, priority: null, unique_key: null, tags: null, lifo: null });
    assert.deepEqual(r, { cmd: 'PUSH', queue: 'q', job: { data: '1', ...DEFAULT_JOB } });
  });

  it('PUSH: data may be any JSON value, null included, but not absent', () => {
    for (const data of [null, 0, 'text', [1, 'a'], { nested: { deep: [true, false, null] } }]) {
      const r = both({ cmd: 'PUSH', queue: 'q', data });
      assert.equal(r.cmd === 'PUSH' && r.job.data, JSON.stringify(data));
    }
    rejects({ cmd: 'PUSH', queue: 'q' }, 'Missing field "data"');
  });

  it('PUSHB', () => {
    assert.deepEqual(both({ cmd: 'PUSHB', queue: 'emails', jobs: [{ data: { e: 'a' } }, { data: { e: 'b' }, priority: 5 }] }), {
      cmd: 'PUSHB',
      queue: 'emails',
      jobs: [
        { data: '{"e":"a"}', ...DEFAULT_JOB },
        { data: '{"e":"b"}', ...DEFAULT_JOB, priority: 5 },
      ],
    });
    assert.deepEqual(both({ cmd: 'PUSHB', queue: 'q', jobs: [] }), { cmd: 'PUSHB', queue: 'q', jobs: [] });
  });

  it('PULL and PULLB', () => {
    assert.deepEqual(both({ cmd: 'PULL', queue: 'q' }), { cmd: 'PULL', queue: 'q', timeout: null });
    assert.deepEqual(both({ cmd: 'PULL', queue: 'q', timeout: 0 }), { cmd: 'PULL', queue: 'q', timeout: 0 });
    assert.deepEqual(both({ cmd: 'PULL', queue: 'q', timeout: 5000 }), { cmd: 'PULL', queue: 'q', timeout: 5000 });
    assert.deepEqual(both({ cmd: 'PULLB', queue: 'q' }), { cmd: 'PULLB', queue: 'q', count: 1, timeout: null });
    assert.deepEqual(both({ cmd: 'PULLB', queue: 'q', count: 1000, timeout: 250 }), { cmd: 'PULLB', queue: 'q', count: 1000, timeout: 250 });
  });

  it('ACK, ACKB, FAIL', () => {
    assert.deepEqual(both({ cmd: 'ACK', id: 12345 }), { cmd: 'ACK', id: 12345, result: null });
    assert.deepEqual(both({ cmd: 'ACK', id: 12345, result: null }), { cmd: 'ACK', id: 12345, result: null });
    assert.deepEqual(both({ cmd: 'ACK', id: 12345, result: { sent: true } }), { cmd: 'ACK', id: 12345, result: '{"sent":true}' });
    assert.deepEqual(both({ cmd: 'ACKB', ids: [1, 2, 3] }), { cmd: 'ACKB', ids: [1, 2, 3] });
    assert.deepEqual(both({ cmd: 'ACKB', ids: [] }), { cmd: 'ACKB', ids: [] });
    assert.deepEqual(both({ cmd: 'FAIL', id: 7 }), { cmd: 'FAIL', id: 7, error: null });
    assert.deepEqual(both({ cmd: 'FAIL', id: 7, error: 'Connection timeout' }), { cmd: 'FAIL', id: 7, error: 'Connection timeout' });
  });

  it('commands by id', () => {
    for (const cmd of ['CANCEL', 'GETPROGRESS', 'GETJOB', 'GETSTATE', 'GETRESULT']) {
      assert.deepEqual(both({ cmd, id: 9 }), { cmd, id: 9 });
    }
  });

  it('PROGRESS clamps to 0..100 and takes an optional message', () => {
    assert.deepEqual(both({ cmd: 'PROGRESS', id: 1, progress: 75, message: 'Step 3/4' }), { cmd: 'PROGRESS', id: 1, progress: 75, message: 'Step 3/4' });
    assert.deepEqual(both({ cmd: 'PROGRESS', id: 1, progress: 150 }), { cmd: 'PROGRESS', id: 1, progress: 100, message: null });
    assert.deepEqual(both({ cmd: 'PROGRESS', id: 1, progress: -5 }), { cmd: 'PROGRESS', id: 1, progress: 0, message: null });
  });

  it('DLQ (count default 100, capped at the batch limit) and RETRYDLQ', () => {
    assert.deepEqual(both({ cmd: 'DLQ', queue: 'q' }), { cmd: 'DLQ', queue: 'q', count: 100 });
    assert.deepEqual(both({ cmd: 'DLQ', queue: 'q', count: 5 }), { cmd: 'DLQ', queue: 'q', count: 5 });
    assert.deepEqual(both({ cmd: 'DLQ', queue: 'q', count: 5000 }), { cmd: 'DLQ', queue: 'q', count: 1000 });
    assert.deepEqual(both({ cmd: 'RETRYDLQ', queue: 'q' }), { cmd: 'RETRYDLQ', queue: 'q', id: null });
    assert.deepEqual(both({ cmd: 'RETRYDLQ', queue: 'q', id: 12345 }), { cmd: 'RETRYDLQ', queue: 'q', id: 12345 });
  });

  it('queue settings', () => {
    assert.deepEqual(both({ cmd: 'RATELIMIT', queue: 'q', limit: 100 }), { cmd: 'RATELIMIT', queue: 'q', limit: 100 });
    assert.deepEqual(both({ cmd: 'SETCONCURRENCY', queue: 'q', limit: 5 }), { cmd: 'SETCONCURRENCY', queue: 'q', limit: 5 });
    for (const cmd of ['RATELIMITCLEAR', 'CLEARCONCURRENCY', 'PAUSE', 'RESUME']) assert.deepEqual(both({ cmd, queue: 'q' }), { cmd, queue: 'q' });
  });

  it('fan-out commands', () => {
    for (const cmd of ['LISTQUEUES', 'CRONLIST', 'STATS', 'METRICS']) assert.deepEqual(both({ cmd }), { cmd });
    assert.deepEqual(both({ cmd: 'JOBS' }), { cmd: 'JOBS', queue: null, state: null, limit: 100, offset: 0 });
    assert.deepEqual(both({ cmd: 'JOBS', queue: 'q', state: 'waitingchildren', limit: 10, offset: 20 }), {
      cmd: 'JOBS',
      queue: 'q',
      state: 'waiting-children',
      limit: 10,
      offset: 20,
    });
  });

  it('CRON and CRONDELETE', () => {
    assert.deepEqual(both({ cmd: 'CRON', name: 'daily-cleanup', queue: 'maintenance', data: { action: 'cleanup' }, schedule: '0 0 3 * * *', priority: 2 }), {
      cmd: 'CRON',
      name: 'daily-cleanup',
      queue: 'maintenance',
      data: '{"action":"cleanup"}',
      schedule: '0 0 3 * * *',
      priority: 2,
    });
    assert.deepEqual(both({ cmd: 'CRON', name: 'n', queue: 'q', schedule: '*/5 * * * *' }), {
      cmd: 'CRON',
      name: 'n',
      queue: 'q',
      data: '{}',
      schedule: '*/5 * * * *',
      priority: 0,
    });
    assert.deepEqual(both({ cmd: 'CRONDELETE', name: 'daily-cleanup' }), { cmd: 'CRONDELETE', name: 'daily-cleanup' });
  });

  it('ignores fields it does not know', () => {
    assert.deepEqual(both({ cmd: 'STATS', extra: { a: 1 }, reqId: 1 }), { cmd: 'STATS' });
  });
});

describe('decodeRequest: validation errors name the field', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{}, 'Missing field "cmd"'],
    [{ cmd: 5 }, 'Invalid field "cmd": expected a string'],
    [{ cmd: 'push', queue: 'q' }, 'Unknown command: push'],
    [{ cmd: 'FLY' }, 'Unknown command: FLY'],
    [{ cmd: 'constructor' }, 'Unknown command: constructor'],
    [{ cmd: 'PUSH', data: 1 }, 'Missing field "queue"'],
    [{ cmd: 'PUSH', queue: 5, data: 1 }, 'Invalid field "queue": expected a string'],
    [{ cmd: 'PUSH', queue: 'bad name!', data: 1 }, 'Invalid queue name: "bad name!"'],
    [{ cmd: 'PUSH', queue: '', data: 1 }, 'Invalid queue name: ""'],
    [{ cmd: 'PULL', queue: 'é' }, 'Invalid queue name: "é"'],
    [{ cmd: 'PUSH', queue: 'a'.repeat(257), data: 1 }, `Invalid queue name: "${'a'.repeat(64)}…"`],
    [{ cmd: 'PUSH', queue: 'q', data: 1, priority: 1.5 }, 'Invalid field "priority": expected an integer'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, priority: '5' }, 'Invalid field "priority": expected an integer'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, priority: 2 ** 31 }, 'Invalid field "priority": out of range (-2147483648..2147483647)'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, delay: -1 }, 'Invalid field "delay": out of range (0..9007199254740991)'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, ttl: 1e300 }, 'Invalid field "ttl": out of range (0..9007199254740991)'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, timeout: true }, 'Invalid field "timeout": expected an integer'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, max_attempts: -1 }, 'Invalid field "max_attempts": out of range (0..4294967295)'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, backoff: 'x' }, 'Invalid field "backoff": expected an integer'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, unique_key: 5 }, 'Invalid field "unique_key": expected a string'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, depends_on: 'x' }, 'Invalid field "depends_on": expected an array'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, depends_on: [1, 0] }, 'Invalid field "depends_on[1]": expected a positive integer'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, tags: [1] }, 'Invalid field "tags[0]": expected a string'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, tags: 'a' }, 'Invalid field "tags": expected an array'],
    [{ cmd: 'PUSH', queue: 'q', data: 1, lifo: 'yes' }, 'Invalid field "lifo": expected a boolean'],
    [{ cmd: 'PUSHB', queue: 'q' }, 'Missing field "jobs"'],
    [{ cmd: 'PUSHB', queue: 'q', jobs: { data: 1 } }, 'Invalid field "jobs": expected an array'],
    [{ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 1 }, { data: 2 }, 'x'] }, 'Invalid field "jobs[2]": expected an object'],
    [{ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 1 }, { priority: 1 }] }, 'Missing field "jobs[1].data"'],
    [{ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 1 }, { data: 1 }, { data: 1 }, { data: 1, priority: 'high' }] }, 'Invalid field "jobs[3].priority": expected an integer'],
    [{ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 1, depends_on: [-1] }] }, 'Invalid field "jobs[0].depends_on[0]": expected a positive integer'],
    [{ cmd: 'PULL', queue: 'q', timeout: -1 }, 'Invalid field "timeout": out of range (0..9007199254740991)'],
    [{ cmd: 'PULLB', queue: 'q', count: 0 }, 'Invalid field "count": out of range (1..9007199254740991)'],
    [{ cmd: 'PULLB', queue: 'q', count: 1001 }, 'Batch too large (max 1000)'],
    [{ cmd: 'PULLB', queue: 'q', count: 'ten' }, 'Invalid field "count": expected an integer'],
    [{ cmd: 'ACK' }, 'Missing field "id"'],
    [{ cmd: 'ACK', id: 0 }, 'Invalid field "id": out of range (1..9007199254740991)'],
    [{ cmd: 'ACK', id: '5' }, 'Invalid field "id": expected an integer'],
    [{ cmd: 'GETJOB', id: 1.5 }, 'Invalid field "id": expected an integer'],
    [{ cmd: 'ACKB' }, 'Missing field "ids"'],
    [{ cmd: 'ACKB', ids: 5 }, 'Invalid field "ids": expected an array'],
    [{ cmd: 'ACKB', ids: [1, '2'] }, 'Invalid field "ids[1]": expected a positive integer'],
    [{ cmd: 'ACKB', ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, 'Batch too large (max 1000)'],
    [{ cmd: 'FAIL', id: 1, error: 5 }, 'Invalid field "error": expected a string'],
    [{ cmd: 'PROGRESS', id: 1 }, 'Missing field "progress"'],
    [{ cmd: 'PROGRESS', id: 1, progress: '50' }, 'Invalid field "progress": expected an integer'],
    [{ cmd: 'PROGRESS', id: 1, progress: 5, message: 5 }, 'Invalid field "message": expected a string'],
    [{ cmd: 'DLQ', queue: 'q', count: 0 }, 'Invalid field "count": out of range (1..9007199254740991)'],
    [{ cmd: 'RETRYDLQ', queue: 'q', id: -1 }, 'Invalid field "id": out of range (1..9007199254740991)'],
    [{ cmd: 'RATELIMIT', queue: 'q' }, 'Missing field "limit"'],
    [{ cmd: 'RATELIMIT', queue: 'q', limit: 0 }, 'Invalid field "limit": out of range (1..4294967295)'],
    [{ cmd: 'SETCONCURRENCY', queue: 'q', limit: 2.5 }, 'Invalid field "limit": expected an integer'],
    [{ cmd: 'PAUSE' }, 'Missing field "queue"'],
    [{ cmd: 'CRON', queue: 'q', schedule: '* * * * *' }, 'Missing field "name"'],
    [{ cmd: 'CRON', name: '', queue: 'q', schedule: '* * * * *' }, 'Invalid field "name": expected 1..256 characters'],
    [{ cmd: 'CRON', name: 'n', queue: 'q' }, 'Missing field "schedule"'],
    [{ cmd: 'CRON', name: 'n', queue: 'q', schedule: '*'.repeat(257) }, 'Invalid cron expression: longer than 256 characters'],
    [{ cmd: 'CRON', name: 'n', queue: 'q', schedule: '* * * * *', priority: 'x' }, 'Invalid field "priority": expected an integer'],
    [{ cmd: 'CRON', name: 'n', schedule: '* * * * *' }, 'Missing field "queue"'],
    [{ cmd: 'CRONDELETE' }, 'Missing field "name"'],
    [{ cmd: 'JOBS', state: 'bogus' }, 'Invalid field "state": expected one of waiting, delayed, active, completed, failed, waiting-children'],
    [{ cmd: 'JOBS', limit: 0 }, 'Invalid field "limit": out of range (1..9007199254740991)'],
    [{ cmd: 'JOBS', offset: -1 }, 'Invalid field "offset": out of range (0..9007199254740991)'],
    [{ cmd: 'JOBS', queue: 'no way' }, 'Invalid queue name: "no way"'],
  ];
  for (const [o, message] of cases) {
    it(`${JSON.stringify(o).slice(0, 90)} → ${message.slice(0, 60)}`, () => rejects(o, message));
  }

  it('validation errors are BadRequest and carry the reqId', () => {
    const e = errorOf(() => decodeRequest(Format.TcpJson, Buffer.from('{"cmd":"PUSH","reqId":"r7","queue":"q"}')));
    assert.equal(e.code, ErrorCode.BadRequest);
    assert.equal(e.reqId, 'r7');
    const m = errorOf(() => decodeRequest(Format.TcpMsgpack, pack({ reqId: 8, cmd: 'NOPE' })));
    assert.equal(m.reqId, 8);
    assert.equal(m.message, 'Unknown command: NOPE');
  });
});

describe('decodeRequest: batches are validated whole', () => {
  it('one bad job fails the whole request, naming its index', () => {
    const jobs: Array<Record<string, unknown>> = Array.from({ length: 50 }, (_, i) => ({ data: { i } }));
    jobs[37] = { data: 1, delay: -5 };
    rejects({ cmd: 'PUSHB', queue: 'q', jobs }, 'Invalid field "jobs[37].delay": out of range (0..9007199254740991)');
  });

  it('honours the maxBatch option', () => {
    const jobs = [{ data: 1 }, { data: 2 }, { data: 3 }];
    rejects({ cmd: 'PUSHB', queue: 'q', jobs }, 'Batch too large (max 2)', { maxBatch: 2 });
    rejects({ cmd: 'ACKB', ids: [1, 2, 3] }, 'Batch too large (max 2)', { maxBatch: 2 });
    rejects({ cmd: 'PULLB', queue: 'q', count: 3 }, 'Batch too large (max 2)', { maxBatch: 2 });
    assert.equal((both({ cmd: 'PUSHB', queue: 'q', jobs }, { maxBatch: 3 }) as { jobs: unknown[] }).jobs.length, 3);
    rejects({ cmd: 'PUSHB', queue: 'q', jobs: Array.from({ length: 1001 }, () => ({ data: 1 })) }, 'Batch too large (max 1000)');
    assert.equal((both({ cmd: 'PUSHB', queue: 'q', jobs: Array.from({ length: 1000 }, () => ({ data: 1 })) }) as { jobs: unknown[] }).jobs.length, 1000);
  });
});

describe('decodeRequest: payload size', () => {
  const big = (bytes: number) => ({ blob: 'x'.repeat(bytes - 11) }); // {"blob":"…"} is 11 bytes + the string

  it('rejects a 1.1 MB data and accepts a 900 KB one', () => {
    const tooBig = big(1_100_000);
    assert.equal(JSON.stringify(tooBig).length, 1_100_000);
    rejects({ cmd: 'PUSH', queue: 'q', data: tooBig }, 'Payload too large (1100000 bytes, max 1048576)');
    const ok = both({ cmd: 'PUSH', queue: 'q', data: big(900_000) });
    assert.equal(ok.cmd === 'PUSH' && ok.job.data.length, 900_000);
  });

  it('accepts exactly the limit and rejects one byte more', () => {
    both({ cmd: 'PUSH', queue: 'q', data: big(1_048_576) });
    rejects({ cmd: 'PUSH', queue: 'q', data: big(1_048_577) }, 'Payload too large (1048577 bytes, max 1048576)');
  });

  it('measures UTF-8 bytes, not characters', () => {
    const data = { s: 'é'.repeat(600_000) }; // 1.2 MB of UTF-8 in 600k characters
    rejects({ cmd: 'PUSH', queue: 'q', data }, `Payload too large (${Buffer.byteLength(JSON.stringify(data))} bytes, max 1048576)`);
  });

  it('names the job of a batch whose data is too large', () => {
    rejects({ cmd: 'PUSHB', queue: 'q', jobs: [{ data: 1 }, { data: 2 }, { data: big(1_100_000) }] }, 'Payload too large (1100000 bytes, max 1048576) at jobs[2].data');
  });

  it('limits an ack result and a cron data the same way', () => {
    rejects({ cmd: 'ACK', id: 1, result: big(1_100_000) }, 'Payload too large (1100000 bytes, max 1048576)');
    rejects({ cmd: 'CRON', name: 'n', queue: 'q', schedule: '* * * * *', data: big(1_100_000) }, 'Payload too large (1100000 bytes, max 1048576)');
  });

  it('honours the payloadLimit option', () => {
    rejects({ cmd: 'PUSH', queue: 'q', data: 'x'.repeat(20) }, 'Payload too large (22 bytes, max 10)', { maxBatch: 1000, payloadLimit: 10 });
  });

  it('reports too large as its own code (413 on HTTP)', () => {
    const e = errorOf(() => decodeRequest(Format.TcpJson, Buffer.from(JSON.stringify({ cmd: 'PUSH', queue: 'q', data: big(1_100_000) }))));
    assert.equal(e.code, ErrorCode.TooLarge);
  });
});

describe('decodeRequest: JSON lines', () => {
  it('keeps the data text exactly as sent (no precision lost, no re-serialisation)', () => {
    const r = jsonLine('{"cmd":"PUSH","queue":"q","data":{"n":12345678901234567890, "f":1.50, "s":"é\\u00e9"}}');
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"n":12345678901234567890, "f":1.50, "s":"é\\u00e9"}');
  });

  it('slices each job of a batch out of the line', () => {
    const r = jsonLine('{"cmd":"PUSHB","jobs":[{"priority":1,"data":[1, 2]},{"data":"x\\"y"} , {"data":{"jobs":[{"data":0}]},"lifo":true}],"queue":"q"}');
    assert.ok(r.cmd === 'PUSHB');
    assert.deepEqual(
      r.jobs.map((j) => j.data),
      ['[1, 2]', '"x\\"y"', '{"jobs":[{"data":0}]}'],
    );
  });

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    const r = jsonLine('{"cmd":"PUSH","queue":"q","data":1,"data":{"second":true}}');
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"second":true}');
  });

  it('falls back to JSON.stringify when a key is written with escapes', () => {
    const r = jsonLine('{"cmd":"PUSH","queue":"q","data":1,"d\\u0061ta":{ "b" : 2 }}');
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"b":2}');
    const b = jsonLine('{"cmd":"PUSHB","queue":"q","jobs":[{"d\\u0061ta":[1, 2]},{"data":[3, 4]}]}');
    assert.deepEqual(b.cmd === 'PUSHB' && b.jobs.map((j) => j.data), ['[1,2]', '[3, 4]']);
  });

  it('keeps the result text of an ACK as sent', () => {
    const r = jsonLine('{"cmd":"ACK","id":3,"result":{"sent":true, "id":"abc"}}');
    assert.deepEqual(r, { cmd: 'ACK', id: 3, result: '{"sent":true, "id":"abc"}' });
  });

  it('answers a line that is not JSON with Invalid JSON, echoing a readable reqId', () => {
    const e = errorOf(() => decodeRequest(Format.TcpJson, Buffer.from('{"reqId":"abc","cmd":"PUSH","queue":')));
    assert.match(e.message, /^Invalid JSON: /);
    assert.equal(e.reqId, 'abc');
    assert.equal(e.code, ErrorCode.BadRequest);
    const f = errorOf(() => decodeRequest(Format.TcpJson, Buffer.from('hello')));
    assert.match(f.message, /^Invalid JSON: /);
    assert.equal(f.reqId, null);
  });

  it('requires an object', () => {
    assert.equal(errorOf(() => jsonLine('[1,2]')).message, 'Invalid JSON: a request must be an object, got an array');
    assert.equal(errorOf(() => jsonLine('"PUSH"')).message, 'Invalid JSON: a request must be an object, got a string');
    assert.equal(errorOf(() => jsonLine('null')).message, 'Invalid JSON: a request must be an object, got null');
    assert.equal(errorOf(() => jsonLine('42')).message, 'Invalid JSON: a request must be an object, got a number');
  });

  it('returns the reqId (string or number) to echo', () => {
    assert.deepEqual(decodeRequest(Format.TcpJson, Buffer.from('{"cmd":"STATS","reqId":"a-1"}')), { request: { cmd: 'STATS' }, reqId: 'a-1' });
    assert.deepEqual(decodeRequest(Format.TcpJson, Buffer.from('{"cmd":"STATS","reqId":42}')), { request: { cmd: 'STATS' }, reqId: 42 });
    assert.deepEqual(decodeRequest(Format.TcpJson, Buffer.from('{"cmd":"STATS","reqId":{"x":1}}')), { request: { cmd: 'STATS' }, reqId: null });
    assert.deepEqual(decodeRequest(Format.TcpJson, Buffer.from('{"cmd":"STATS"}')), { request: { cmd: 'STATS' }, reqId: null });
  });

  it('decodes a view of a SharedArrayBuffer (ring memory)', () => {
    const src = Buffer.from('{"cmd":"PUSH","queue":"q","data":{"a":1}}');
    const shared = new Uint8Array(new SharedArrayBuffer(128));
    shared.set(src, 16);
    const r = decodeRequest(Format.TcpJson, shared.subarray(16, 16 + src.length)).request;
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"a":1}');
  });

  it('decodes the Internal format like TCP JSON', () => {
    assert.deepEqual(decodeRequest(Format.Internal, Buffer.from('{"cmd":"JOBS","queue":"q","limit":5}')).request, {
      cmd: 'JOBS',
      queue: 'q',
      state: null,
      limit: 5,
      offset: 0,
    });
  });
});

describe('decodeRequest: MessagePack', () => {
  it('answers bytes that are not MessagePack', () => {
    // 0xc1 ("never used") unpacks to a marker object, so it is answered as a non-map
    assert.equal(errorOf(() => decodeRequest(Format.TcpMsgpack, Buffer.from([0xc1]))).message, 'Request must be a MessagePack map with string keys');
    const t = errorOf(() => decodeRequest(Format.TcpMsgpack, Buffer.from([0x82, 0xa3, 0x63, 0x6d, 0x64])));
    assert.match(t.message, /^Invalid MessagePack: /);
    assert.match(errorOf(() => decodeRequest(Format.TcpMsgpack, Buffer.alloc(0))).message, /^Invalid MessagePack: /);
  });

  it('requires a map', () => {
    assert.equal(errorOf(() => decodeRequest(Format.TcpMsgpack, pack([1, 2]))).message, 'Request must be a MessagePack map with string keys');
    assert.equal(errorOf(() => decodeRequest(Format.TcpMsgpack, pack('PUSH'))).message, 'Request must be a MessagePack map with string keys');
  });

  it('reads 64-bit integers (non-JS clients) as numbers', () => {
    // {"cmd":"ACK","id":uint64 2^40+3} and {"cmd":"GETJOB","id":int64 5}
    const ack = Buffer.from([0x82, 0xa3, 0x63, 0x6d, 0x64, 0xa3, 0x41, 0x43, 0x4b, 0xa2, 0x69, 0x64, 0xcf, 0, 0, 1, 0, 0, 0, 0, 3]);
    assert.deepEqual(decodeRequest(Format.TcpMsgpack, ack).request, { cmd: 'ACK', id: 2 ** 40 + 3, result: null });
    const get = Buffer.from([0x82, 0xa3, 0x63, 0x6d, 0x64, 0xa6, 0x47, 0x45, 0x54, 0x4a, 0x4f, 0x42, 0xa2, 0x69, 0x64, 0xd3, 0, 0, 0, 0, 0, 0, 0, 5]);
    assert.deepEqual(decodeRequest(Format.TcpMsgpack, get).request, { cmd: 'GETJOB', id: 5 });
  });

  it('refuses a payload integer beyond 2^53 rather than round it', () => {
    // {"cmd":"PUSH","queue":"q","data":uint64 2^60}
    const bytes = Buffer.concat([Buffer.from([0x83, 0xa3, 0x63, 0x6d, 0x64, 0xa4, 0x50, 0x55, 0x53, 0x48, 0xa5, 0x71, 0x75, 0x65, 0x75, 0x65, 0xa1, 0x71, 0xa4, 0x64, 0x61, 0x74, 0x61]), Buffer.from([0xcf, 0x10, 0, 0, 0, 0, 0, 0, 0])]);
    assert.equal(errorOf(() => decodeRequest(Format.TcpMsgpack, bytes)).message, 'Invalid field "data": not representable as JSON');
  });

  it('turns data values into JSON text', () => {
    const r = decodeRequest(Format.TcpMsgpack, pack({ cmd: 'PUSH', queue: 'q', data: { when: new Date(0), n: 2 ** 40, f: 1.5 } })).request;
    assert.equal(r.cmd === 'PUSH' && r.job.data, '{"when":"1970-01-01T00:00:00.000Z","n":1099511627776,"f":1.5}');
  });
});
