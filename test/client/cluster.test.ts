/**
 * The client in cluster mode: two real nodes (CLUSTER_MODE=1 over one PostgreSQL), queues whose
 * partitions each node serves, and the client's Queue, Worker, QueueEvents and `flashq-ts bench`
 * pointed at them. A request for a partition the other node serves is forwarded over the internal
 * link; the client sees one broker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashqClient, Queue, QueueEvents, Worker, type JobEvent } from 'flashq-ts/client';
import { partitionOf } from '../../src/engine/partition.js';
import { waitFor } from '../helpers/server.js';
import { cli } from '../cli/helpers.js';
import { ClusterProc, waitSettled } from '../cluster/node-cluster.js';
import { freshDatabase, NO_PG } from '../store/pg.js';

const TTL = 3_000;

/** A queue name whose partition `owner` serves. */
function queueServedBy(served: Map<string, number[]>, owner: string, prefix: string): string {
  const mine = new Set(served.get(owner)!);
  for (let i = 0; ; i++) if (mine.has(partitionOf(`${prefix}-${i}`))) return `${prefix}-${i}`;
}

describe('the client against a two-node cluster', { skip: NO_PG }, () => {
  let a: ClusterProc;
  let b: ClusterProc;
  let served: Map<string, number[]>;
  const open: { close(): Promise<void> }[] = [];
  const track = <C extends { close(): Promise<void> }>(c: C): C => (open.push(c), c);

  before(async () => {
    const url = await freshDatabase('client_cluster');
    // one after the other: the first migrates, the second joins a running cluster
    a = await ClusterProc.start(url, 'ca', TTL);
    b = await ClusterProc.start(url, 'cb', TTL);
    served = await waitSettled([a, b], 30_000, 'two nodes share the partitions', true);
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    for (const n of [a, b]) n?.kill('SIGKILL');
    await Promise.all([a, b].map((n) => n?.server.exited));
  });

  test('a Queue on one node and Workers on the other handle every job exactly once, on both nodes\' partitions', async () => {
    const onA = queueServedBy(served, 'ca', 'cl-a');
    const onB = queueServedBy(served, 'cb', 'cl-b');
    const producer = track(new Queue(onA, { port: a.port, httpPort: a.server.httpPort }));
    const other = track(new Queue(onB, { port: a.port, httpPort: a.server.httpPort }));
    const ids = new Map<string, number[]>([
      [onA, await producer.addBulk(Array.from({ length: 300 }, (_, i) => ({ data: { q: onA, i } })))],
      [onB, await other.addBulk(Array.from({ length: 300 }, (_, i) => ({ data: { q: onB, i } })))],
    ]);
    assert.equal((await producer.counts()).pending, 300);
    assert.equal((await other.counts()).pending, 300, 'counts of a queue served by the other node');
    // the job browser (HTTP) of node A lists a queue node B serves
    assert.equal((await other.getJobs({ state: 'waiting', limit: 5 })).length, 5);

    const handled = new Map<number, number>();
    for (const q of [onA, onB]) {
      // every worker talks to node B: for onA's jobs each pull and ack is forwarded to node A
      const w = track(
        new Worker<{ q: string; i: number }>(q, (job) => {
          handled.set(job.id, (handled.get(job.id) ?? 0) + 1);
          return { by: 'cb', i: job.data.i };
        }, { port: b.port, concurrency: 20, pullTimeoutMs: 200 }),
      );
      w.on('error', () => undefined);
    }
    await waitFor(() => handled.size === 600, 30_000, 'all 600 jobs handled');
    for (const [q, list] of ids) {
      await waitFor(async () => (await producer.client.getState(list[list.length - 1]!)) === 'completed', 10_000, `the last job of ${q} acked`);
      for (const id of [list[0]!, list[150]!, list[299]!]) assert.deepEqual(await producer.client.getResult(id), { by: 'cb', i: list.indexOf(id) }, `${q} job ${id} result`);
    }
    assert.deepEqual([...handled.values()].filter((n) => n !== 1), [], 'no job handled twice');
    assert.deepEqual([...handled.keys()].sort((x, y) => x - y), [...ids.values()].flat().sort((x, y) => x - y));
  });

  test('QueueEvents on one node sees the events of a queue the other node serves', async () => {
    const q = queueServedBy(served, 'cb', 'cl-ev');
    const events = track(new QueueEvents(q, { httpPort: a.server.httpPort }));
    await events.waitUntilReady();
    const seen: JobEvent[] = [];
    events.on('event', (e: JobEvent) => seen.push(e));
    const client = track(new FlashqClient({ port: b.port }));
    // the subscription reaches the serving node asynchronously: push until one is seen
    const ids: number[] = [];
    await waitFor(async () => {
      ids.push(await client.push(q, { n: ids.length }));
      return seen.some((e) => e.event_type === 'job.pushed');
    }, 10_000, 'a job.pushed event through node A');
    const job = await client.pull(q, { timeout: 1000 });
    assert.ok(job);
    await client.ack(job.id, 'ok');
    await waitFor(() => seen.some((e) => e.event_type === 'job.completed' && e.job_id === job.id), 10_000, 'the completed event');
    assert.ok(seen.every((e) => e.queue === q));
  });

  test('an interval cron (*/1) created through one node fires on the node serving its queue', { timeout: 60_000 }, async () => {
    const q = queueServedBy(served, 'cb', 'cl-cron');
    const viaA = track(new FlashqClient({ port: a.port, timeoutMs: 8000 }));
    const viaB = track(new FlashqClient({ port: b.port, timeoutMs: 8000 }));
    const created = Date.now();
    await viaA.cron('cl-every-second', { queue: q, data: { tick: true }, schedule: '*/1' });
    assert.deepEqual((await viaB.cronList()).filter((c) => c.name === 'cl-every-second').map((c) => [c.queue, c.schedule]), [[q, '*/1']]);
    const first = await viaA.pull(q, { timeout: 5000 });
    assert.deepEqual(first?.data, { tick: true });
    assert.ok(first!.created_at >= created + 1000, `first run ${first!.created_at - created} ms after creation`);
    await viaA.ack(first!.id);
    await viaA.cronDelete('cl-every-second');
    assert.equal((await viaB.cronList()).some((c) => c.name === 'cl-every-second'), false);
  });

  test('CRONDELETE through either node, and DELETE /crons/{name}, answer and remove the cron everywhere', { timeout: 60_000 }, async () => {
    const q = queueServedBy(served, 'cb', 'cl-cron-del');
    const outcome: string[] = [];
    for (const [via, port] of [['A', a.port], ['B', b.port]] as const) {
      // a timeout: the delete went unanswered in cluster mode (the other node was asked in the client's format)
      const c = track(new FlashqClient({ port, timeoutMs: 8000 }));
      const name = `cl-del-${via}`;
      await c.cron(name, { queue: q, data: {}, schedule: '0 0 3 * * *' });
      outcome.push(`via ${via}: ` + (await c.cronDelete(name).then(() => 'answered', (e: Error) => e.message)));
    }
    assert.deepEqual(outcome, ['via A: answered', 'via B: answered']);
    const check = track(new FlashqClient({ port: b.port, timeoutMs: 8000 }));
    await check.cron('cl-del-http', { queue: q, data: {}, schedule: '*/60' });
    const res = await fetch(`http://127.0.0.1:${a.server.httpPort}/crons/cl-del-http`, { method: 'DELETE', signal: AbortSignal.timeout(8000) });
    assert.equal(res.status, 200, await res.text());
    for (const c of [check, track(new FlashqClient({ port: a.port, timeoutMs: 8000 }))]) {
      assert.deepEqual((await c.cronList()).filter((x) => x.name.startsWith('cl-del-')), []);
    }
  });

  test('flashq-ts bench --nodes spreads over the cluster and checks exactly-once delivery', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'flashq-cl-bench-')), 'bench.json');
    const r = await cli(['bench', '--nodes', `127.0.0.1:${a.port},127.0.0.1:${b.port}`, '--jobs', '2000', '--batch', '100', '--connections', '2', '--samples', '20', '--out', out, '--http-port', String(a.server.httpPort)], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /every job delivered exactly once: yes/);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { flashq: { exactlyOnce: boolean; pullAck: { jobs: number } } };
    assert.equal(report.flashq.exactlyOnce, true);
    assert.equal(report.flashq.pullAck.jobs, 2000);
  });

  test('a client given both nodes carries on with the other when its node is killed', async () => {
    const q = queueServedBy(served, 'cb', 'cl-move');
    const qa = queueServedBy(served, 'ca', 'cl-move-a');
    const client = track(new FlashqClient({ nodes: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }], reconnectInitialMs: 20 }));
    await client.connect();
    const first = await client.push(q, { before: true });
    const onDead = await client.push(qa, { before: true });
    a.kill('SIGKILL');
    await a.server.exited;
    const second = (await waitFor(async () => client.push(q, { after: true }).catch(() => null), 10_000, 'a push through node B'))!;
    assert.equal(await client.getState(first), 'waiting');
    assert.equal(await client.getState(second), 'waiting');
    // the dead node's partitions are refused until B has taken them over; the job acknowledged
    // by A before it died is then served by B
    await waitFor(async () => (await client.getState(onDead).catch(() => null)) === 'waiting', 4 * TTL + 10_000, 'the job pushed through A, served by B');
    const job = await client.pull(qa, { timeout: 1000 });
    assert.deepEqual([job?.id, job?.data], [onDead, { before: true }]);
    await client.ack(onDead);
  });
});
