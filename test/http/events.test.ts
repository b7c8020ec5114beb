import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { FlashqClient } from '../../src/client/index.js';
import { Api, SseSub, until, WsSub } from './client.js';

for (const shards of SHARD_MODES) describe(`events over WebSocket and SSE (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let api: Api;
  before(async () => {
    server = await startServer({ SHARDS: shards });
    api = new Api(server.httpPort);
  });
  after(async () => {
    await server.stop();
  });

  test('/ws carries every event type of every queue, in the documented format', async () => {
    const sub = await WsSub.open(server.httpPort, '/ws');
    const a = await api.push('ev-a', { data: { n: 1 }, max_attempts: 2, backoff: 1 });
    const b = await api.push('ev-b', { data: { n: 2 } });
    await api.get('/queues/ev-a/jobs');
    await api.post(`/jobs/${a.id}/progress`, { progress: 40, message: 'working' });
    await api.post(`/jobs/${a.id}/fail`, { error: 'flaky' });
    const again = await api.get('/queues/ev-a/jobs?timeout=5000');
    assert.equal(again.data[0].id, a.id);
    await api.post(`/jobs/${a.id}/ack`, { result: { done: true } });

    const pushed = await sub.waitFor((e) => e.event_type === 'job.pushed' && e.job_id === a.id, 'job.pushed');
    assert.equal(pushed.queue, 'ev-a');
    assert.deepEqual(pushed.data, { n: 1 });
    assert.equal(typeof pushed.timestamp, 'number');
    await sub.waitFor((e) => e.event_type === 'job.pushed' && e.job_id === b.id && e.queue === 'ev-b', 'job.pushed of the other queue');
    await sub.waitFor((e) => e.event_type === 'job.started' && e.job_id === a.id, 'job.started');
    const progress = await sub.waitFor((e) => e.event_type === 'job.progress' && e.job_id === a.id, 'job.progress');
    assert.equal(progress.progress, 40);
    const failed = await sub.waitFor((e) => e.event_type === 'job.failed' && e.job_id === a.id, 'job.failed');
    assert.equal(failed.error, 'flaky');
    const completed = await sub.waitFor((e) => e.event_type === 'job.completed' && e.job_id === a.id, 'job.completed');
    assert.deepEqual(completed.data, { done: true });
    const mine = sub.events.filter((e) => e.job_id === a.id).map((e) => e.event_type);
    assert.deepEqual(mine, ['job.pushed', 'job.started', 'job.progress', 'job.failed', 'job.started', 'job.completed'], 'in order');
    sub.close();
  });

  test('/ws/{queue} only carries that queue', async () => {
    const sub = await WsSub.open(server.httpPort, '/ws/only-me');
    await api.push('not-me', { data: 0 });
    const mine = await api.push('only-me', { data: 1 });
    await sub.waitFor((e) => e.job_id === mine.id, 'the queue event');
    assert.ok(sub.events.every((e) => e.queue === 'only-me'));
    sub.close();
  });

  test('/ws/{queue} with an invalid queue name is refused with 400', async () => {
    await assert.rejects(WsSub.open(server.httpPort, '/ws/bad%20name'), (e: any) => e.status === 400);
  });

  test('batch operations emit one event per job', async () => {
    const sub = await WsSub.open(server.httpPort, '/ws/batchq');
    for (let i = 0; i < 5; i++) await api.push('batchq', { data: i });
    const pulled = await api.get('/queues/batchq/jobs?count=5');
    assert.equal(pulled.data.length, 5);
    await waitFor(() => sub.events.filter((e) => e.event_type === 'job.started').length === 5, 5000, '5 started events');
    sub.close();
  });

  test('/events streams SSE frames named after the event type', async () => {
    const sse = await SseSub.open(server.httpPort, '/events');
    assert.equal(sse.status, 200);
    const job = await api.push('sse-q', { data: { s: 'x' } });
    const f = await sse.waitFor((x) => x.data.job_id === job.id, 'the SSE frame');
    assert.equal(f.event, 'job.pushed');
    assert.equal(f.data.event_type, 'job.pushed');
    assert.equal(f.data.queue, 'sse-q');
    assert.deepEqual(f.data.data, { s: 'x' });
    sse.close();
  });

  test('/events/{queue} only carries that queue', async () => {
    const sse = await SseSub.open(server.httpPort, '/events/sse-only');
    await api.push('sse-other', { data: 0 });
    const job = await api.push('sse-only', { data: 1 });
    await api.get('/queues/sse-only/jobs');
    await sse.waitFor((x) => x.event === 'job.started' && x.data.job_id === job.id, 'job.started');
    assert.ok(sse.frames.every((x) => x.data.queue === 'sse-only'));
    sse.close();
  });

  test('a subscriber that stops reading is dropped and the queue keeps its pace', async () => {
    const slow = await WsSub.open(server.httpPort, '/ws/flood');
    const fast = await WsSub.open(server.httpPort, '/ws/flood');
    slow.ws.pause();
    const data = 'x'.repeat(100_000);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) await api.push('flood', { data });
    const elapsed = Date.now() - t0;
    await waitFor(() => fast.events.length === 200, 10_000, 'the reading subscriber got every event');
    slow.ws.resume();
    await waitFor(() => slow.closed !== null, 10_000, 'the slow subscriber to be closed');
    assert.ok(slow.events.length < 200, `the slow subscriber missed events (got ${slow.events.length})`);
    assert.ok(elapsed < 10_000, `200 pushes took ${elapsed} ms`);
    fast.close();
  });

  test('a burst over the fan-out budget loses events, never jobs, and events resume after it', async () => {
    // 10 subscribers: each event costs 12 of the 100,000 deliveries a second allows (~8,300 events)
    const subs = await Promise.all(Array.from({ length: 10 }, () => WsSub.open(server.httpPort, '/ws/burst')));
    const sub = subs[0]!;
    const client = new FlashqClient({ port: server.port });
    await client.connect();
    // all 30 batches in flight at once: pushed one after another on a slow machine, the burst
    // could spread past the budget's 1 s window and shed nothing
    const batches = await Promise.all(
      Array.from({ length: 30 }, (_, b) => client.pushBatch('burst', Array.from({ length: 1000 }, (_, i) => ({ data: { b, i } })))),
    );
    const ids = batches.flat();
    assert.equal(new Set(ids).size, 30_000, 'every job accepted');
    const q = await until(async () => (await api.get('/queues')).data.find((x: any) => x.name === 'burst'), 5000, 'the queue');
    assert.equal(q.pending, 30_000);
    const prom = await api.get('/metrics/prometheus');
    const dropped = Number(/^flashq_events_dropped_total (\d+)$/m.exec(prom.raw)?.[1]);
    assert.ok(dropped > 0, 'some events were dropped');
    assert.ok(sub.events.length < 30_000, `the subscriber got ${sub.events.length} of 30000 events`);
    // once the budget's window passes (1 s), events flow again: push a marker until one's event
    // arrives (a marker pushed while the shards still shed produces none), then they keep flowing
    let markers = 0;
    await waitFor(
      async () => {
        const m = await api.push('burst', { data: 'late' });
        markers++;
        return sub.waitFor((e) => e.job_id === m.id, 'a marker', 250).then(
          () => true,
          () => false,
        );
      },
      5000,
      'an event after the burst',
    );
    assert.ok(markers <= 12, `events resumed only after ${markers} markers`);
    const next = await api.push('burst', { data: 'next' });
    await sub.waitFor((e) => e.job_id === next.id && e.event_type === 'job.pushed', 'the event of the push after that');
    await client.close();
    for (const x of subs) x.close();
  });

  test('SSE sends a keep-alive comment every 15 s', { timeout: 25_000 }, async () => {
    const sse = await SseSub.open(server.httpPort, '/events/idle');
    await waitFor(() => sse.comments.includes('keep-alive'), 20_000, 'a keep-alive comment');
    sse.close();
  });
});
