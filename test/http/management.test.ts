import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, type RunningServer } from '../helpers/server.js';
import { Api, until } from './client.js';

for (const shards of SHARD_MODES) describe(`HTTP crons, stats, metrics, workers, settings (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let api: Api;
  before(async () => {
    server = await startServer({ SHARDS: shards, DATABASE_URL: '', NODE_ID: 'node-test' });
    api = new Api(server.httpPort);
  });
  after(async () => {
    await server.stop();
  });

  test('crons: create answers the cron, list shows it, delete removes it', async () => {
    const c = await api.post('/crons/daily-cleanup', { queue: 'maintenance', data: { action: 'cleanup' }, schedule: '0 0 3 * * *', priority: 2 });
    assert.equal(c.status, 200, c.raw);
    assert.equal(c.data.name, 'daily-cleanup');
    assert.equal(c.data.queue, 'maintenance');
    assert.equal(c.data.priority, 2);
    assert.ok(c.data.next_run > Date.now());
    const list = await api.get('/crons');
    assert.deepEqual(list.data.map((x: any) => x.name), ['daily-cleanup']);
    assert.deepEqual(list.data[0].data, { action: 'cleanup' });
    assert.equal((await api.del('/crons/daily-cleanup')).status, 200);
    assert.deepEqual((await api.get('/crons')).data, []);
  });

  test('a cron re-created on another queue (another shard) replaces the first', async () => {
    await api.post('/crons/moving', { queue: 'qa', schedule: '0 0 * * * *' });
    for (const q of ['qb', 'qc', 'qd', 'qe']) assert.equal((await api.post('/crons/moving', { queue: q, schedule: '0 0 * * * *' })).status, 200);
    const list = await until(async () => {
      const l = (await api.get('/crons')).data.filter((x: any) => x.name === 'moving');
      return l.length === 1 ? l : null;
    }, 5000, 'one cron named moving');
    assert.equal(list[0].queue, 'qe');
    await api.del('/crons/moving');
  });

  test('a cron that fires pushes a job into its queue', async () => {
    await api.post('/crons/every-second', { queue: 'ticks', schedule: '* * * * * *', data: { tick: true } });
    const jobs = await until(async () => {
      const a = await api.get('/queues/ticks/jobs');
      return a.data.length > 0 ? a.data : null;
    }, 5000, 'a job pushed by the cron');
    assert.deepEqual(jobs[0].data, { tick: true });
    await api.del('/crons/every-second');
  });

  test('POST /crons takes the */N interval shorthand; the list shows it as given', async () => {
    const before = Date.now();
    const c = await api.post('/crons/every-30s', { queue: 'interval-q', schedule: '*/30', data: { n: 1 } });
    assert.equal(c.status, 200, c.raw);
    assert.equal(c.data.schedule, '*/30');
    assert.ok(c.data.next_run >= before + 30_000 && c.data.next_run <= Date.now() + 30_000, `next_run ${c.data.next_run - before} ms ahead`);
    const listed = (await api.get('/crons')).data.find((x: any) => x.name === 'every-30s');
    assert.equal(listed.schedule, '*/30');
    const bad = await api.post('/crons/every-0s', { queue: 'interval-q', schedule: '*/0' });
    assert.equal(bad.status, 400);
    assert.match(bad.error!, /^Invalid cron expression: interval \*\/0/);
    assert.equal((await api.del('/crons/every-30s')).status, 200);
  });

  test('an invalid cron schedule is a 400', async () => {
    const a = await api.post('/crons/bad', { queue: 'q', schedule: 'not a schedule' });
    assert.equal(a.status, 400);
    assert.match(a.error!, /^Invalid cron expression/);
    const b = await api.post('/crons/bad', { schedule: '* * * * * *' });
    assert.equal(b.status, 400);
    assert.match(b.error!, /queue/);
  });

  test('GET /stats sums every shard', async () => {
    await api.push('s1', { data: 1 });
    await api.push('s2', { data: 1, delay: 60000 });
    const a = await api.get('/stats');
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.data), ['queued', 'processing', 'delayed', 'dlq']);
    assert.ok(a.data.queued >= 1);
    assert.ok(a.data.delayed >= 1);
  });

  test('GET /metrics has the document shape with real counters', async () => {
    const before = (await api.get('/metrics')).data.total_pushed;
    const job = await api.push('m1', { data: 1 });
    await api.get('/queues/m1/jobs');
    await api.post(`/jobs/${job.id}/ack`);
    const a = await api.get('/metrics');
    assert.equal(a.status, 200);
    for (const k of ['total_pushed', 'total_completed', 'total_failed', 'jobs_per_second', 'avg_latency_ms', 'queues']) assert.ok(k in a.data, k);
    assert.equal(a.data.total_pushed, before + 1);
    assert.ok(a.data.total_completed >= 1);
    const q = a.data.queues.find((x: any) => x.name === 'm1');
    assert.deepEqual([q.pending, q.processing, q.dlq], [0, 0, 0]);
  });

  test('GET /metrics/history returns sampled points', async () => {
    const a = await until(async () => {
      const r = await api.get('/metrics/history');
      return r.data.length > 0 ? r : null;
    }, 6000, 'a metrics sample');
    const p = a.data[a.data.length - 1];
    for (const k of ['timestamp', 'total_pushed', 'total_completed', 'total_failed', 'jobs_per_second', 'avg_latency_ms', 'queued', 'processing', 'delayed', 'dlq']) assert.ok(k in p, k);
    // the reference server's names, the same samples
    assert.deepEqual([p.completed, p.failed, p.throughput, p.latency_ms], [p.total_completed, p.total_failed, p.jobs_per_second, p.avg_latency_ms]);
    assert.ok(a.data.length <= 60);
  });

  test('GET /metrics/prometheus exposes the documented names, the latency histogram and Node metrics', async () => {
    await api.push('prom-q', { data: 1 });
    const a = await api.get('/metrics/prometheus');
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /text\/plain/);
    const text = a.raw;
    for (const re of [
      /^flashq_jobs_pushed_total \d+$/m,
      /^flashq_jobs_completed_total \d+$/m,
      /^flashq_jobs_failed_total \d+$/m,
      /^flashq_jobs_current\{state="queued"\} \d+$/m,
      /^flashq_jobs_current\{state="processing"\} \d+$/m,
      /^flashq_jobs_current\{state="delayed"\} \d+$/m,
      /^flashq_jobs_current\{state="dlq"\} \d+$/m,
      /^flashq_throughput_per_second [\d.]+$/m,
      /^flashq_queue_jobs\{queue="prom-q",state="pending"\} 1$/m,
      /^flashq_job_latency_seconds_bucket\{le="\+Inf"\} \d+$/m,
      /^flashq_job_latency_seconds_count \d+$/m,
      /^# TYPE flashq_jobs_pushed_total counter$/m,
      /^process_cpu_user_seconds_total /m,
      /^nodejs_eventloop_lag_seconds /m,
    ]) {
      assert.match(text, re);
    }
  });

  test('workers: a heartbeat registers the worker, GET /workers lists it', async () => {
    const hb = await api.post('/workers/worker-1/heartbeat', { queues: ['emails', 'notifications'], concurrency: 10, jobs_processed: 5000 });
    assert.equal(hb.status, 200);
    const a = await api.get('/workers');
    const w = a.data.find((x: any) => x.id === 'worker-1');
    assert.deepEqual(w.queues, ['emails', 'notifications']);
    assert.equal(w.concurrency, 10);
    assert.equal(w.jobs_processed, 5000);
    assert.ok(Math.abs(w.last_heartbeat - Date.now()) < 5000);
    // a later heartbeat without jobs_processed keeps the last count
    await api.post('/workers/worker-1/heartbeat', { queues: ['emails'], concurrency: 2 });
    const w2 = (await api.get('/workers')).data.find((x: any) => x.id === 'worker-1');
    assert.deepEqual([w2.queues, w2.concurrency, w2.jobs_processed], [['emails'], 2, 5000]);
  });

  test('workers: bad heartbeat bodies are 400', async () => {
    assert.equal((await api.post('/workers/w/heartbeat', { queues: 'emails' })).status, 400);
    assert.equal((await api.post('/workers/w/heartbeat', { concurrency: -1 })).status, 400);
    assert.equal((await api.post('/workers/w/heartbeat', { queues: ['bad name'] })).status, 400);
    assert.equal((await api.post('/workers/w/heartbeat', 'not json')).status, 400);
    assert.equal((await api.post('/workers/w/heartbeat', '[1]')).status, 400);
  });

  test('GET /settings reports version, ports, auth and a real uptime', async () => {
    const a = await api.get('/settings');
    assert.equal(a.status, 200);
    assert.match(a.data.version, /^\d+\.\d+\.\d+/);
    assert.equal(a.data.tcp_port, server.port);
    assert.equal(a.data.http_port, server.httpPort);
    assert.equal(a.data.database_connected, false);
    assert.equal(a.data.database_url, null);
    assert.equal(a.data.auth_enabled, false);
    assert.equal(a.data.auth_token_count, 0);
    assert.ok(Number.isInteger(a.data.uptime_seconds) && a.data.uptime_seconds >= 0);
  });

  test('GET /health and GET /cluster/nodes describe this node', async () => {
    const h = await api.get('/health');
    assert.deepEqual(h.data, { status: 'healthy', node_id: 'node-test', is_leader: true, cluster_enabled: false, postgres_connected: false });
    const n = await api.get('/cluster/nodes');
    assert.equal(n.data.length, 1);
    assert.equal(n.data[0].node_id, 'node-test');
    assert.equal(n.data[0].port, server.httpPort);
    assert.equal(n.data[0].is_leader, true);
    assert.ok(n.data[0].started_at <= n.data[0].last_heartbeat);
  });

  test('unknown routes are 404 in the envelope', async () => {
    for (const [m, p] of [['GET', '/nope'], ['PUT', '/queues'], ['GET', '/queues/x/unknown'], ['PATCH', '/jobs/1']]) {
      const a = await api.call(m!, p!);
      assert.equal(a.status, 404, `${m} ${p}`);
      assert.equal(a.ok, false);
      assert.match(a.error!, /not found/i);
    }
  });
});
