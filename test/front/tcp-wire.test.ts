import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';

for (const shards of SHARD_MODES) describe(`TCP wire behaviour (SHARDS=${shards})`, () => {
  let server: RunningServer;
  const unix = join(tmpdir(), `flashq-test-${process.pid}.sock`);
  before(async () => {
    server = await startServer({ SHARDS: shards, UNIX_SOCKET: unix });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('pipelines 10,000 requests on one socket and answers them in order', async () => {
    const c = await WireClient.open(server.port);
    let lines = '';
    for (let i = 0; i < 10_000; i++) lines += JSON.stringify({ cmd: 'PUSH', queue: i % 2 ? 'pipe-a' : 'pipe-b', data: { i } }) + '\n';
    c.raw(lines);
    let lastA = 0;
    let lastB = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = await c.next();
      assert.equal(a.ok, true);
      // ids grow per queue: answers for the two queues (two shards) are interleaved in request order
      if (i % 2) {
        assert.ok(a.id > lastA);
        lastA = a.id;
      } else {
        assert.ok(a.id > lastB);
        lastB = a.id;
      }
    }
    const got = await c.call({ cmd: 'PULLB', queue: 'pipe-a', count: 1000 });
    assert.deepEqual(got.jobs.slice(0, 3).map((j: { data: { i: number } }) => j.data.i), [1, 3, 5], 'FIFO by push order');
    await c.close();
  });

  it('answers malformed lines with an error and keeps the connection usable', async () => {
    const c = await WireClient.open(server.port);
    // the first byte picks the framing (`{` = JSON lines), so open with a valid request
    assert.equal((await c.call({ cmd: 'STATS' })).ok, true);
    c.raw('this is not json\n');
    assert.match((await c.next()).error, /^Invalid JSON/);
    c.raw('[1,2,3]\n');
    assert.equal((await c.next()).ok, false);
    c.raw('{"cmd":5}\n');
    assert.equal((await c.next()).ok, false);
    c.raw('{"cmd":"PUSH","queue":"x","data":{"unterminated":\n');
    assert.match((await c.next()).error, /^Invalid JSON/);
    c.raw('\r\n   \n{"cmd":"STATS"}\r\n');
    assert.equal((await c.next()).ok, true, 'blank lines are skipped, CRLF tolerated');
    await c.close();
  });

  it('a first line that is not a JSON object gets Invalid JSON and the connection stays usable', async () => {
    // framing is picked on the first byte: only 0x00 (every accepted length prefix) means MessagePack
    for (const first of ['[1,2,3]', '"PUSH"', 'null', '42', 'nope', 'true', '\u00ff\u0001junk']) {
      const c = await WireClient.open(server.port);
      c.raw(first + '\n');
      const a = await c.next();
      assert.equal(a.ok, false, first);
      assert.match(a.error, /^Invalid JSON: /, first);
      assert.equal((await c.call({ cmd: 'STATS' })).ok, true, `usable after ${JSON.stringify(first)}`);
      await c.close();
    }
  });

  it('MessagePack framing is picked by a leading 0x00 even when it arrives alone', async () => {
    const c = await WireClient.open(server.port, 'msgpack');
    const body = pack({ cmd: 'PUSH', queue: 'mp-split', data: { n: 1 } });
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32BE(body.length);
    body.copy(frame, 4);
    // two writes (no Nagle): the server usually sees the lone 0x00 as its own first chunk
    await new Promise<void>((resolve) => c.socket.write(frame.subarray(0, 1), () => resolve()));
    c.raw(frame.subarray(1));
    const a = await c.next();
    assert.equal(a.ok, true);
    assert.equal((await c.call({ cmd: 'GETSTATE', id: a.id })).state, 'waiting');
    await c.close();
  });

  it('a request naming its queue twice is refused when the names live on different shards, else read as JSON reads it', async () => {
    const c = await WireClient.open(server.port);
    // with two shards q0 and z0 hash to different ones: the front routes by the first key, JSON
    // keeps the last, and the shard that got it refuses; one shard owns both and the last key wins
    const a = await c.call({ cmd: 'STATS' });
    assert.equal(a.ok, true);
    c.raw('{"cmd":"PAUSE","queue":"q0","queue":"z0"}\n');
    const answer = await c.next();
    const lq = await c.call({ cmd: 'LISTQUEUES' });
    const named = lq.queues.filter((q: { name: string }) => q.name === 'z0' || q.name === 'q0');
    if (shards === '0') {
      assert.equal(answer.ok, true);
      assert.deepEqual(named.map((q: { name: string; paused: boolean }) => [q.name, q.paused]), [['z0', true]]);
    } else {
      assert.equal(answer.ok, false);
      assert.match(answer.error, /conflicting "queue" fields/);
      assert.deepEqual(named, [], 'nothing was created');
    }
    await c.close();
  });

  it('refuses a 1.1 MB payload and accepts a 900 KB one', async () => {
    const c = await WireClient.open(server.port);
    const big = await c.call({ cmd: 'PUSH', queue: 'sizes', data: { blob: 'x'.repeat(1_100_000) } });
    assert.equal(big.ok, false);
    assert.match(big.error, /^Payload too large/);
    const ok = await c.call({ cmd: 'PUSH', queue: 'sizes', data: { blob: 'y'.repeat(900_000) } });
    assert.equal(ok.ok, true);
    const pulled = await c.call({ cmd: 'PULL', queue: 'sizes' });
    assert.equal(pulled.job.data.blob.length, 900_000);
    await c.close();
  });

  it('discards a line longer than the limit and resynchronises at the next newline', async () => {
    const c = await WireClient.open(server.port);
    const huge = '{"cmd":"PUSH","queue":"huge","data":"' + 'z'.repeat(1_200_000) + '"}\n';
    c.raw(huge.slice(0, 300_000));
    c.raw(huge.slice(300_000));
    c.raw('{"cmd":"PUSH","queue":"huge","data":1}\n');
    assert.match((await c.next()).error, /^Payload too large/);
    assert.equal((await c.next()).ok, true);
    assert.equal((await c.call({ cmd: 'STATS' })).ok, true);
    await c.close();
  });

  it('MessagePack framing: an oversized frame is answered, then the connection is closed', async () => {
    const c = await WireClient.open(server.port, 'msgpack');
    assert.equal((await c.call({ cmd: 'PUSH', queue: 'mp', data: { a: 1 } })).ok, true);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(50_000_000);
    c.raw(head);
    assert.match((await c.next()).error, /^Payload too large/);
    await c.closedP;
    assert.equal(c.closed, true);
  });

  it('MessagePack and JSON clients see the same jobs', async () => {
    const mp = await WireClient.open(server.port, 'msgpack');
    const js = await WireClient.open(server.port, 'json');
    const { id } = await mp.call({ cmd: 'PUSH', queue: 'mixed', data: { deep: { list: [1, 2, { x: null }] } }, tags: ['a'] });
    const job = (await js.call({ cmd: 'PULL', queue: 'mixed' })).job;
    assert.equal(job.id, id);
    assert.deepEqual(job.data, { deep: { list: [1, 2, { x: null }] } });
    assert.equal((await mp.call({ cmd: 'ACK', id, result: { ok: 1 } })).ok, true);
    assert.deepEqual((await mp.call({ cmd: 'GETRESULT', id })).result, { ok: 1 });
    // a frame that is not a map is refused without killing the connection
    const body = pack([1, 2]);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(body.length);
    mp.raw(Buffer.concat([h, body]));
    assert.equal((await mp.next()).ok, false);
    assert.equal((await mp.call({ cmd: 'STATS' })).ok, true);
    await mp.close();
    await js.close();
  });

  it('serves the same protocol on the Unix socket', async () => {
    const c = await WireClient.open(unix);
    assert.equal((await c.call({ cmd: 'PUSH', queue: 'unix', data: 1 })).ok, true);
    assert.equal((await c.call({ cmd: 'PULL', queue: 'unix' })).job.data, 1);
    await c.close();
  });

  it('a blocking PULL waits for a push from another connection', async () => {
    const worker = await WireClient.open(server.port);
    const producer = await WireClient.open(server.port);
    worker.write({ cmd: 'PULL', queue: 'block' });
    worker.write({ cmd: 'STATS' }); // answered only after the PULL: answers keep request order
    await producer.call({ cmd: 'STATS' });
    assert.equal(worker.buffered, 0);
    const { id } = await producer.call({ cmd: 'PUSH', queue: 'block', data: 'hello' });
    const got = await worker.next();
    assert.equal(got.job.id, id);
    assert.equal((await worker.next()).ok, true);
    await worker.close();
    await producer.close();
  });

  it('timed PULL answers job:null and PULLB jobs:[] when nothing comes', async () => {
    const c = await WireClient.open(server.port);
    const t0 = Date.now();
    assert.deepEqual(await c.call({ cmd: 'PULL', queue: 'empty-q', timeout: 100 }), { ok: true, job: null });
    assert.ok(Date.now() - t0 >= 90);
    assert.deepEqual(await c.call({ cmd: 'PULLB', queue: 'empty-q', count: 5, timeout: 50 }), { ok: true, jobs: [] });
    assert.deepEqual(await c.call({ cmd: 'PULLB', queue: 'empty-q', count: 5, timeout: 0 }), { ok: true, jobs: [] });
    assert.match((await c.call({ cmd: 'PULLB', queue: 'empty-q', count: 0 })).error, /count/);
    assert.match((await c.call({ cmd: 'PULLB', queue: 'empty-q', count: 1001 })).error, /^Batch too large/);
    await c.close();
  });

  it('a waiting PULL is cancelled when its socket closes (the job goes to the next worker)', async () => {
    const gone = await WireClient.open(server.port);
    gone.write({ cmd: 'PULL', queue: 'cancel-wait' });
    const probe = await WireClient.open(server.port);
    await probe.call({ cmd: 'STATS' });
    gone.destroy();
    await gone.closedP;
    // a full round trip after the close was sent: the server has read the EOF by then, and its
    // close notice travels to the shard ahead of the push below (same ring, in order)
    await probe.call({ cmd: 'STATS' });
    const { id } = await probe.call({ cmd: 'PUSH', queue: 'cancel-wait', data: 1 });
    const got = await probe.call({ cmd: 'PULL', queue: 'cancel-wait', timeout: 2000 });
    assert.equal(got.job?.id, id);
    assert.equal(got.job.attempts, 1);
    await probe.close();
  });

  it('jobs leased to a connection that closes before ACK are failed back at once', async () => {
    const w = await WireClient.open(server.port);
    const p = await WireClient.open(server.port);
    const { ids } = await p.call({ cmd: 'PUSHB', queue: 'lease', jobs: [{ data: 1, max_attempts: 3, backoff: 10 }, { data: 2 }] });
    const pulled = await w.call({ cmd: 'PULLB', queue: 'lease', count: 2 });
    assert.equal(pulled.jobs.length, 2);
    w.destroy();
    await waitFor(async () => (await p.call({ cmd: 'GETSTATE', id: ids[1] })).state === 'failed', 5000, 'second job in the DLQ');
    const dlq = await p.call({ cmd: 'DLQ', queue: 'lease' });
    assert.equal(dlq.jobs[0].id, ids[1]);
    const st = await p.call({ cmd: 'GETSTATE', id: ids[0] });
    assert.ok(['delayed', 'waiting'].includes(st.state), `retried, got ${st.state}`);
    const again = await p.call({ cmd: 'PULL', queue: 'lease', timeout: 3000 });
    assert.equal(again.job.id, ids[0]);
    assert.equal(again.job.attempts, 2, 'the lost lease spent an attempt');
    await p.close();
  });
});

describe('AUTH', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ AUTH_TOKENS: 'secret-1,secret-2', SHARDS: '1' });
  });
  after(async () => {
    await server.stop();
  });

  it('every command needs a valid AUTH first; a wrong token leaves the connection unauthenticated', async () => {
    const c = await WireClient.open(server.port);
    assert.deepEqual(await c.call({ cmd: 'PUSH', queue: 'a', data: 1 }), { ok: false, data: null, error: 'Authentication required' });
    assert.deepEqual(await c.call({ cmd: 'AUTH', token: 'nope' }), { ok: false, data: null, error: 'Authentication required: invalid token' });
    assert.equal((await c.call({ cmd: 'STATS' })).error, 'Authentication required');
    assert.deepEqual(await c.call({ cmd: 'AUTH', token: 'secret-2' }), { ok: true });
    assert.equal((await c.call({ cmd: 'PUSH', queue: 'a', data: 1 })).ok, true);
    await c.close();
  });

  it('AUTH works over MessagePack with reqId', async () => {
    const c = await WireClient.open(server.port, 'msgpack');
    assert.deepEqual(await c.call({ cmd: 'AUTH', token: 'secret-1', reqId: 'a1' }), { ok: true, reqId: 'a1' });
    assert.equal((await c.call({ cmd: 'STATS' })).ok, true);
    await c.close();
  });
});

describe('graceful stop', () => {
  it('SIGTERM answers what is in flight, closes connections and exits 0', async () => {
    const server = await startServer({ SHARDS: '1' });
    const c = await WireClient.open(server.port);
    await c.call({ cmd: 'PUSH', queue: 'bye', data: 1 });
    c.write({ cmd: 'PULL', queue: 'never' });
    const code = server.stop('SIGTERM');
    assert.deepEqual(await c.next(), { ok: true, job: null }, 'the parked pull is answered');
    assert.equal(await code, 0);
    await c.closedP;
  });
});
