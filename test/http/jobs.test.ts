import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, type RunningServer } from '../helpers/server.js';
import { Api } from './client.js';

for (const shards of SHARD_MODES) describe(`HTTP job routes (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let api: Api;
  before(async () => {
    server = await startServer({ SHARDS: shards });
    api = new Api(server.httpPort);
  });
  after(async () => {
    await server.stop();
  });

  test('GET /jobs/{id} shows the job with its state and result', async () => {
    const job = await api.push('j1', { data: { k: 'v' } });
    const a = await api.get(`/jobs/${job.id}`);
    assert.equal(a.status, 200);
    assert.equal(a.data.id, job.id);
    assert.equal(a.data.state, 'waiting');
    assert.equal(a.data.result, null);
    assert.deepEqual(a.data.data, { k: 'v' });
  });

  test('an unknown id is 404 "Job N not found" on every /jobs/{id} route', async () => {
    const id = 987654321;
    for (const [method, path, body] of [
      ['GET', `/jobs/${id}`],
      ['POST', `/jobs/${id}/ack`, {}],
      ['POST', `/jobs/${id}/fail`, { error: 'x' }],
      ['POST', `/jobs/${id}/cancel`],
      ['POST', `/jobs/${id}/progress`, { progress: 5 }],
      ['GET', `/jobs/${id}/progress`],
      ['GET', `/jobs/${id}/result`],
    ] as Array<[string, string, unknown?]>) {
      const a = await api.call(method, path, body);
      assert.equal(a.status, 404, `${method} ${path}`);
      assert.equal(a.ok, false);
      assert.equal(a.data, null);
      assert.match(a.error!, new RegExp(`^Job ${id} not found`), `${method} ${path}`);
    }
  });

  test('a job id that is not a number is a 400; digits that cannot be an id are 404', async () => {
    for (const bad of ['abc', '-1', '1.5', '0x10']) {
      const a = await api.get(`/jobs/${bad}`);
      assert.equal(a.status, 400, bad);
      assert.match(a.error!, /job id/);
    }
    assert.equal((await api.get('/jobs/0')).error, 'Job 0 not found');
    assert.equal((await api.get('/jobs/9007199254740993')).status, 404);
  });

  test('ack stores the result; GET /jobs/{id}/result returns it', async () => {
    const job = await api.push('j2', { data: 1 });
    await api.get('/queues/j2/jobs');
    const ack = await api.post(`/jobs/${job.id}/ack`, { result: { sent: true, message_id: 'abc' } });
    assert.equal(ack.status, 200);
    assert.equal(ack.ok, true);
    const r = await api.get(`/jobs/${job.id}/result`);
    assert.deepEqual(r.data, { sent: true, message_id: 'abc' });
    const j = await api.get(`/jobs/${job.id}`);
    assert.equal(j.data.state, 'completed');
    assert.deepEqual(j.data.result, { sent: true, message_id: 'abc' });
  });

  test('ack without a body completes the job with a null result', async () => {
    const job = await api.push('j2b', { data: 1 });
    await api.get('/queues/j2b/jobs');
    assert.equal((await api.post(`/jobs/${job.id}/ack`)).status, 200);
    assert.equal((await api.get(`/jobs/${job.id}/result`)).data, null);
  });

  test('fail retries with backoff while attempts remain', async () => {
    const job = await api.push('j3', { data: 1, max_attempts: 2, backoff: 60000 });
    await api.get('/queues/j3/jobs');
    assert.equal((await api.post(`/jobs/${job.id}/fail`, { error: 'SMTP down' })).status, 200);
    const a = await api.get(`/jobs/${job.id}`);
    assert.equal(a.data.state, 'delayed');
    assert.equal(a.data.progress_msg, 'SMTP down', 'the last error');
  });

  test('a job in the DLQ shows its last error as progress_msg in GET /jobs/{id} and the DLQ listing', async () => {
    const job = await api.push('j3-dlq', { data: 1 });
    await api.get('/queues/j3-dlq/jobs');
    await api.post(`/jobs/${job.id}/progress`, { progress: 50, message: 'halfway' });
    assert.equal((await api.post(`/jobs/${job.id}/fail`, { error: 'invalid address' })).status, 200);
    const a = await api.get(`/jobs/${job.id}`);
    assert.equal(a.data.state, 'failed');
    assert.equal(a.data.progress_msg, 'invalid address');
    const dlq = await api.get('/queues/j3-dlq/dlq');
    assert.deepEqual(dlq.data.map((j: any) => [j.id, j.progress_msg]), [[job.id, 'invalid address']]);
  });

  test('cancel removes a waiting job; an active one answers 409', async () => {
    const waiting = await api.push('j4', { data: 1 });
    assert.equal((await api.post(`/jobs/${waiting.id}/cancel`)).status, 200);
    assert.equal((await api.get(`/jobs/${waiting.id}/state`)).data.state, 'unknown');
    const active = await api.push('j4', { data: 2 });
    await api.get('/queues/j4/jobs');
    const a = await api.post(`/jobs/${active.id}/cancel`);
    assert.equal(a.status, 409);
    assert.match(a.error!, /is active/);
  });

  test('progress: update then read back as [progress, message]', async () => {
    const job = await api.push('j5', { data: 1 });
    await api.get('/queues/j5/jobs');
    assert.equal((await api.post(`/jobs/${job.id}/progress`, { progress: 75, message: 'step 3 of 4' })).status, 200);
    assert.deepEqual((await api.get(`/jobs/${job.id}/progress`)).data, [75, 'step 3 of 4']);
    const bad = await api.post(`/jobs/${job.id}/progress`, { progress: 'most' });
    assert.equal(bad.status, 400);
    assert.match(bad.error!, /progress/);
  });

  test('a duplicate unique_key is 409 "Duplicate job"', async () => {
    await api.push('j6', { data: 1, unique_key: 'k1' });
    const a = await api.post('/queues/j6/jobs', { data: 2, unique_key: 'k1' });
    assert.equal(a.status, 409);
    assert.match(a.error!, /^Duplicate job/);
  });

  test('GET /jobs browses across shards: filters, newest first, limit and offset', async () => {
    const ids: number[] = [];
    for (const q of ['b1', 'b2', 'b3']) for (let i = 0; i < 3; i++) ids.push((await api.push(q, { data: i })).id);
    const all = await api.get('/jobs?state=waiting&limit=1000');
    const mine = all.data.filter((j: any) => ['b1', 'b2', 'b3'].includes(j.queue));
    assert.equal(mine.length, 9);
    const created = all.data.map((j: any) => j.created_at);
    assert.deepEqual(created, [...created].sort((a: number, b: number) => b - a), 'newest first');
    const b2 = await api.get('/jobs?queue=b2');
    assert.deepEqual(b2.data.map((j: any) => j.queue), ['b2', 'b2', 'b2']);
    const page = await api.get('/jobs?queue=b2&limit=1&offset=1');
    assert.equal(page.data.length, 1);
    assert.equal(page.data[0].id, b2.data[1].id);
  });

  test('GET /jobs with a bad filter is a 400', async () => {
    assert.equal((await api.get('/jobs?state=sleeping')).status, 400);
    assert.equal((await api.get('/jobs?limit=-1')).status, 400);
    assert.equal((await api.get('/jobs?queue=a%2Fb')).status, 400);
  });
});
