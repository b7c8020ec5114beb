import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/server.js';
import { Api, SseSub, WsSub } from '../http/client.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, queuesOn } from './cluster-jobs.js';
import { Receiver } from '../helpers/webhook-receiver.js';

interface Delivery {
  event: string;
  queue: string;
  job_id: number;
}

const deliveries = (rx: Receiver): Delivery[] => rx.got.map((r) => JSON.parse(r.body.toString('utf8')) as Delivery);
import { callRetrying, waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 3_000;
const KINDS = ['job.pushed', 'job.completed', 'job.failed'];

/** "type job_id" of each event, counted. */
function tally(events: Array<{ type: string; id: number }>): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) m.set(`${e.type} ${e.id}`, (m.get(`${e.type} ${e.id}`) ?? 0) + 1);
  return m;
}

const cluster = new ClusterFixture();
const receivers: Receiver[] = [];
afterEach(async () => {
  await cluster.cleanup();
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

describe('cluster mode: events of every node reach every node', { skip: NO_PG }, () => {
  test('WS and SSE subscribers on A and a webhook created through A see each event of jobs on A, B and C exactly once', async () => {
    const nodes = await cluster.start('cluster_events', ['node-a', 'node-b', 'node-c'], TTL);
    const [a] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    const served = await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    // per node: a queue for probes, a queue for the jobs counted
    const byNode = [...queuesOn(served, 2).values()];
    const probes = byNode.map((qs) => qs[0]!);
    const queues = byNode.map((qs) => qs[1]!);

    const rx = new Receiver();
    receivers.push(rx);
    await rx.start();
    const api = new Api(a.server.httpPort);
    const hook = await api.post('/webhooks', { url: `http://127.0.0.1:${rx.port}/hook`, events: KINDS });
    assert.equal(hook.status, 200, hook.raw);
    // every node delivers the events of its own partitions, so every node must know the webhook
    for (const n of nodes) {
      await waitFor(async () => (await new Api(n.server.httpPort).get('/webhooks')).data.some((w: { id: string }) => w.id === hook.data.id), 5_000, `${n.nodeId} to load the webhook created through A`);
    }

    const ws = await WsSub.open(a.server.httpPort, '/ws');
    const sse = await SseSub.open(a.server.httpPort, '/events');
    const ca = await cluster.client(a);
    // A asks B and C for their events when its first subscriber arrives: wait until a probe of
    // each queue went through to both subscribers and the webhook before counting
    await waitFor(async () => {
      for (const q of probes) await callRetrying(ca, { cmd: 'PUSH', queue: q, data: { probe: true } });
      await new Promise((r) => setTimeout(r, 100));
      return probes.every(
        (q) =>
          ws.events.some((e) => e.queue === q) &&
          sse.frames.some((f) => f.data.queue === q) &&
          deliveries(rx).some((g) => g.queue === q),
      );
    }, 15_000, 'a probe of each node to reach the subscribers and the webhook');

    // through A: four jobs per queue; through B: pull them all, ack two and fail two per queue
    const cb = await cluster.client(nodes[1]!);
    const expected: Array<{ type: string; id: number }> = [];
    for (const q of queues) {
      const ids: number[] = [];
      for (let k = 0; k < 4; k++) {
        const p = await callRetrying(ca, { cmd: 'PUSH', queue: q, data: { q, k }, max_attempts: 1 });
        assert.equal(p.ok, true, JSON.stringify(p));
        ids.push(p.id as number);
        expected.push({ type: 'job.pushed', id: p.id as number });
      }
      const pulled = await callRetrying(cb, { cmd: 'PULLB', queue: q, count: 4, timeout: 5000 });
      assert.deepEqual((pulled.jobs as Array<{ id: number }>).map((j) => j.id).sort((x, y) => x - y), ids);
      for (const [k, id] of ids.entries()) {
        const done = k < 2 ? await cb.call({ cmd: 'ACK', id, result: { k } }) : await cb.call({ cmd: 'FAIL', id, error: `fail ${k}` });
        assert.equal(done.ok, true, JSON.stringify(done));
        expected.push({ type: k < 2 ? 'job.completed' : 'job.failed', id });
      }
    }
    // a last job per queue: each node's link carries its events in order, so once these arrived a
    // duplicate of an earlier event would have too (webhook deliveries may overtake each other:
    // for them this only bounds the wait)
    const last: number[] = [];
    for (const q of queues) last.push((await callRetrying(ca, { cmd: 'PUSH', queue: q, data: { last: true } })).id as number);
    const watched = new Set(expected.map((e) => e.id));
    const views = {
      websocket: () => ws.events.map((e) => ({ type: e.event_type as string, id: e.job_id as number })),
      sse: () => sse.frames.map((f) => ({ type: f.event, id: f.data.job_id as number })),
      webhook: () => deliveries(rx).map((g) => ({ type: g.event, id: g.job_id })),
    };
    for (const [name, view] of Object.entries(views)) {
      await waitFor(() => {
        const seen = tally(view());
        return expected.every((e) => seen.has(`${e.type} ${e.id}`)) && last.every((id) => seen.has(`job.pushed ${id}`));
      }, 10_000, `every event through the ${name}`);
      const seen = tally(view().filter((e) => watched.has(e.id) && KINDS.includes(e.type)));
      const twice = [...seen].filter(([, n]) => n !== 1);
      assert.deepEqual(twice, [], `${name}: each event exactly once`);
      assert.equal(seen.size, expected.length, `${name}: no event beyond those expected`);
    }
    ws.close();
    sse.close();
  });
});
