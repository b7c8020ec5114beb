import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { Api } from './client.js';

const JOB_KEYS = [
  'id', 'queue', 'data', 'priority', 'created_at', 'run_at', 'started_at', 'attempts', 'max_attempts', 'backoff', 'ttl',
  'timeout', 'unique_key', 'depends_on', 'progress', 'progress_msg', 'tags', 'lifo', 'state',
];

for (const shards of SHARD_MODES) describe(`HTTP queue routes (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let api: Api;
  before(async () => {
    server = await startServer({ SHARDS: shards });
    api = new Api(server.httpPort);
  });
  after(async () => {
    await server.stop();
  });

  test('POST /queues/{q}/jobs answers the full job in the envelope', async () => {
    const a = await api.post('/queues/emails/jobs', { data: { email: 'a@example.com' }, priority: 10, max_attempts: 3, tags: ['t'] });
    assert.equal(a.status, 200);
    assert.equal(a.ok, true);
    assert.equal(a.error, null);
    assert.deepEqual(Object.keys(a.data), JOB_KEYS);
    assert.equal(a.data.queue, 'emails');
    assert.deepEqual(a.data.data, { email: 'a@example.com' });
    assert.equal(a.data.priority, 10);
    assert.equal(a.data.max_attempts, 3);
    assert.equal(a.data.state, 'waiting');
    assert.match(String(a.headers['content-type']), /application\/json/);
  });

  test('GET /queues/{q}/jobs?count=N pulls up to N jobs at once, highest priority first', async () => {
    await api.push('pullq', { data: 1, priority: 1 });
    await api.push('pullq', { data: 2, priority: 5 });
    await api.push('pullq', { data: 3, priority: 3 });
    const a = await api.get('/queues/pullq/jobs?count=2');
    assert.equal(a.status, 200);
    assert.deepEqual(a.data.map((j: any) => j.data), [2, 3]);
    assert.ok(a.data.every((j: any) => j.state === 'active' && j.attempts === 1));
    const rest = await api.get('/queues/pullq/jobs');
    assert.deepEqual(rest.data.map((j: any) => j.data), [1]);
  });

  test('a pull of an empty queue answers [] at once when no timeout is given', async () => {
    const t0 = Date.now();
    const a = await api.get('/queues/empty-q/jobs?count=5');
    assert.equal(a.status, 200);
    assert.deepEqual(a.data, []);
    assert.ok(Date.now() - t0 < 1000);
  });

  test('a pull with a timeout waits for a job pushed meanwhile', async () => {
    const pending = api.get('/queues/waitq/jobs?count=1&timeout=5000');
    const pushed = await api.push('waitq', { data: { late: true } });
    const a = await pending;
    assert.equal(a.status, 200);
    assert.equal(a.data[0].id, pushed.id);
  });

  test('a pull with a timeout answers [] when it elapses', async () => {
    const a = await api.get('/queues/quietq/jobs?timeout=100');
    assert.deepEqual(a.data, []);
  });

  /** flashq_connections_open of a scrape (the scrape itself is one request in flight) */
  async function openConnections(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics/prometheus`);
    const m = /^flashq_connections_open (\d+)$/m.exec(await res.text());
    assert.ok(m, 'the scrape has flashq_connections_open');
    return Number(m[1]);
  }

  test('a blocking pull whose client disconnects does not keep the job pushed afterwards', async () => {
    const idle = await openConnections();
    const req = httpRequest({ host: '127.0.0.1', port: server.httpPort, path: '/queues/goneq/jobs?timeout=30000' });
    req.on('error', () => {});
    req.end();
    await once(req, 'finish');
    await waitFor(async () => (await openConnections()) === idle + 1, 5000, 'the blocking pull to be in flight');
    req.destroy();
    // the push travels on another socket, which the server may read before it reads the close
    await waitFor(async () => (await openConnections()) === idle, 5000, 'the server to see the client go');
    const job = await api.push('goneq', { data: 'x', max_attempts: 3, backoff: 1 });
    const live = await api.get('/queues/goneq/jobs?timeout=5000');
    assert.equal(live.status, 200);
    assert.equal(live.data.length, 1, 'a live puller gets the job: it was not stranded on the dead request');
    assert.equal(live.data[0].id, job.id);
  });

  test('count over the batch limit is a 400', async () => {
    const a = await api.get('/queues/pullq/jobs?count=1001');
    assert.equal(a.status, 400);
    assert.match(a.error!, /^Batch too large/);
    const b = await api.get('/queues/pullq/jobs?count=abc');
    assert.equal(b.status, 400);
    assert.match(b.error!, /count/);
  });

  test('GET /queues lists queues with counts and settings', async () => {
    await api.push('listed', { data: {} });
    const a = await api.get('/queues');
    const q = a.data.find((x: any) => x.name === 'listed');
    assert.ok(q);
    assert.equal(q.pending, 1);
    assert.equal(q.paused, false);
  });

  test('pause and resume: a paused queue delivers nothing, pushes are still accepted', async () => {
    assert.equal((await api.post('/queues/pq/pause')).status, 200);
    await api.push('pq', { data: 1 });
    const paused = await api.get('/queues/pq/jobs');
    assert.equal(paused.status, 409);
    assert.equal(paused.error, 'Queue paused');
    assert.equal((await api.get('/queues')).data.find((x: any) => x.name === 'pq').paused, true);
    assert.equal((await api.post('/queues/pq/resume')).status, 200);
    assert.equal((await api.get('/queues/pq/jobs')).data.length, 1);
  });

  test('DLQ: a failed job lands there, GET lists it, retry moves it back and answers the count', async () => {
    const job = await api.push('dq', { data: { n: 1 } });
    await api.get('/queues/dq/jobs');
    assert.equal((await api.post(`/jobs/${job.id}/fail`, { error: 'boom' })).status, 200);
    const dlq = await api.get('/queues/dq/dlq');
    assert.equal(dlq.status, 200);
    assert.deepEqual(dlq.data.map((j: any) => j.id), [job.id]);
    const retry = await api.post('/queues/dq/dlq/retry');
    assert.equal(retry.status, 200);
    assert.equal(retry.data, 1);
    assert.deepEqual((await api.get('/queues/dq/dlq')).data, []);
    assert.equal((await api.get(`/jobs/${job.id}`)).data.state, 'waiting');
  });

  test('rate limit: set, enforced on pulls (429), cleared', async () => {
    await api.push('rl', { data: 1 });
    await api.push('rl', { data: 2 });
    assert.equal((await api.post('/queues/rl/rate-limit', { limit: 1 })).status, 200);
    assert.equal((await api.get('/queues')).data.find((x: any) => x.name === 'rl').rate_limit, 1);
    assert.equal((await api.get('/queues/rl/jobs')).data.length, 1);
    const limited = await api.get('/queues/rl/jobs');
    assert.equal(limited.status, 429);
    assert.equal(limited.error, 'Rate limited');
    assert.equal((await api.del('/queues/rl/rate-limit')).status, 200);
    assert.equal((await api.get('/queues/rl/jobs')).data.length, 1);
  });

  test('concurrency limit: set, enforced, cleared', async () => {
    await api.push('cc', { data: 1 });
    await api.push('cc', { data: 2 });
    assert.equal((await api.post('/queues/cc/concurrency', { limit: 1 })).status, 200);
    assert.equal((await api.get('/queues/cc/jobs?count=2')).data.length, 1);
    assert.deepEqual((await api.get('/queues/cc/jobs')).data, []);
    assert.equal((await api.del('/queues/cc/concurrency')).status, 200);
    assert.equal((await api.get('/queues/cc/jobs')).data.length, 1);
  });

  test('wrong field types and missing fields are 400 with a message naming the field', async () => {
    const a = await api.post('/queues/bad/jobs', { data: 1, priority: 'high' });
    assert.equal(a.status, 400);
    assert.match(a.error!, /priority/);
    const b = await api.post('/queues/bad/jobs', { priority: 1 });
    assert.equal(b.status, 400);
    assert.match(b.error!, /data/);
    const c = await api.post('/queues/bad/rate-limit', { limit: 'x' });
    assert.equal(c.status, 400);
    assert.match(c.error!, /limit/);
    const d = await api.post('/queues/bad/jobs');
    assert.equal(d.status, 400);
  });

  test('a body that is not JSON is a 400 "Invalid JSON"', async () => {
    const a = await api.post('/queues/bad/jobs', '{"data": 1');
    assert.equal(a.status, 400);
    assert.match(a.error!, /^Invalid JSON/);
    const b = await api.post('/queues/bad/jobs', '[1,2');
    assert.equal(b.status, 400);
  });

  test('a body that tries to add members to the request wrapper is refused', async () => {
    for (const body of ['1,"queue":"other"', '{"data":1},"cmd":"PAUSE"', '{"data":1},"body":{"data":2}']) {
      const a = await api.post('/queues/inj/jobs', body);
      assert.equal(a.status, 400, body);
      assert.match(a.error!, /^Invalid JSON/, body);
    }
    assert.equal((await api.get('/queues')).data.find((x: any) => x.name === 'other'), undefined);
  });

  test('hostile queue names are 400 "Invalid queue name"', async () => {
    for (const q of ['a%2Fb', '..%2F..%2Fetc', 'sp%20ace', '%22quote', 'x'.repeat(257), '%E2%9C%93']) {
      const a = await api.post(`/queues/${q}/jobs`, { data: 1 });
      assert.equal(a.status, 400, q);
      assert.match(a.error!, /^Invalid queue name/, q);
    }
    const bad = await api.post('/queues/%ZZ/jobs', { data: 1 });
    assert.equal(bad.status, 400);
  });

  test('a body over the limit is refused with 413 before it is read whole', async () => {
    // node:http, not fetch: the server answers (and may close) while the upload is still going,
    // and fetch reports the reset instead of the answer that came first
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.httpPort, path: '/queues/big/jobs', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(big.length) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', (e) => setTimeout(() => reject(e), 1000)); // a reset after the answer is expected
      req.end(big);
    });
    assert.equal(answer.status, 413);
    assert.match((JSON.parse(answer.body) as { error: string }).error, /^Payload too large/);
  });

  test('a streamed (chunked) body over the limit is refused with 413 once the running total passes it', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        // far more than the limit: the server must answer before all of it is sent
        if (sent >= 64 * 1024 * 1024) return ctl.close();
        sent += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const res = await fetch(`${api.base}/queues/big/jobs`, { method: 'POST', body, duplex: 'half' } as RequestInit).catch((e: Error) => e);
    if (res instanceof Error) {
      // the server may close before the client finished sending; it must not have read it all
      assert.ok(sent < 64 * 1024 * 1024, 'the upload was cut short');
    } else {
      assert.equal(res.status, 413);
      assert.match(((await res.json()) as { error: string }).error, /^Payload too large/);
    }
  });

  test('data just under the payload limit is accepted', async () => {
    const data = 'x'.repeat(1024 * 1024 - 100);
    const a = await api.post('/queues/big/jobs', { data });
    assert.equal(a.status, 200);
  });
});
