import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/server.js';
import type { WireClient } from '../helpers/wire.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, ownerOfQueue } from './cluster-jobs.js';
import { callRetrying, waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 3_000;
const QUEUE = 'cron-ticks';
const cluster = new ClusterFixture();
afterEach(() => cluster.cleanup());

/** Creation times of the jobs the cron pushed so far, oldest first (read through `via`). */
async function fired(via: ClusterProc): Promise<number[]> {
  const jobs = await via.get<Array<{ created_at: number }>>(`/jobs?queue=${QUEUE}&limit=1000`);
  return jobs.map((j) => j.created_at).sort((x, y) => x - y);
}

/** One firing per period: an interval cron's next run is its last run + 1 s, so two jobs less than a second apart are one period fired twice. */
function assertOncePerPeriod(times: number[], t: { diagnostic(msg: string): void }): void {
  const gaps = times.slice(1).map((x, k) => x - times[k]!);
  t.diagnostic(`${times.length} firings over ${times.at(-1)! - times[0]!} ms; gaps ${gaps.join(' ')}`);
  assert.deepEqual(gaps.filter((g) => g < 1000), [], 'no period fired twice');
}

async function cronNames(c: WireClient): Promise<string[]> {
  const a = await callRetrying(c, { cmd: 'CRONLIST' });
  assert.equal(a.ok, true, JSON.stringify(a));
  return (a.crons as Array<{ name: string }>).map((x) => x.name);
}

describe('cluster mode: crons', { skip: NO_PG }, () => {
  test('a */1 cron created through one node fires once per second across the cluster, also across a SIGKILL of its owner', async (t) => {
    const nodes = await cluster.start('cluster_cron', ['node-a', 'node-b', 'node-c'], TTL);
    await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    const ownerId = await ownerOfQueue(nodes[0]!, QUEUE);
    const holder = nodes.find((n) => n.nodeId === ownerId)!;
    assert.ok(holder, `the queue's partition has an owner: ${ownerId}`);
    // created through a node that does not own the queue: the request travels to the owner
    const via = nodes.find((n) => n !== holder)!;
    const clients = await Promise.all(nodes.map((n) => cluster.client(n)));
    const cv = clients[nodes.indexOf(via)]!;
    const made = await callRetrying(cv, { cmd: 'CRON', name: 'tick', queue: QUEUE, data: { tick: true }, schedule: '*/1' });
    assert.equal(made.ok, true, JSON.stringify(made));
    for (const c of clients) assert.deepEqual(await cronNames(c), ['tick'], 'CRONLIST through every node shows the cron once');

    await waitFor(async () => (await fired(via)).length >= 4, 15_000, 'four firings');
    const killedAt = Date.now();
    holder.kill('SIGKILL');
    await holder.server.exited;
    const survivors = nodes.filter((n) => n !== holder);
    await waitSettled(survivors, 4 * TTL, 'the survivors serve every partition');
    const after = await waitFor(async () => {
      const times = await fired(survivors[0]!);
      return times.filter((x) => x > killedAt).length >= 4 ? times : null;
    }, 20_000, 'four firings after the owner was killed');
    for (const n of survivors) {
      assert.deepEqual(await cronNames(clients[nodes.indexOf(n)]!), ['tick'], `CRONLIST through ${n.nodeId} after the failover`);
    }

    // the failover may skip periods, never fire one twice
    const times = after!;
    assertOncePerPeriod(times, t);
    const before = times.filter((x) => x <= killedAt).length;
    assert.ok(before >= 4, `fired before the kill: ${before}`);
  });

  test('a */1 cron whose owner is SIGSTOPped past its lease, then SIGCONTed, still fires at most once per second', async (t) => {
    const nodes = await cluster.start('cluster_cron_stop', ['node-a', 'node-b', 'node-c'], TTL);
    await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    const ownerId = await ownerOfQueue(nodes[0]!, QUEUE);
    const holder = nodes.find((n) => n.nodeId === ownerId)!;
    const others = nodes.filter((n) => n !== holder);
    const co = await cluster.client(others[0]!);
    const made = await callRetrying(co, { cmd: 'CRON', name: 'tick', queue: QUEUE, data: {}, schedule: '*/1' });
    assert.equal(made.ok, true, JSON.stringify(made));
    await waitFor(async () => (await fired(others[0]!)).length >= 3, 15_000, 'three firings');

    // the stopped owner's timers are all overdue when it resumes: its firing of a period the
    // others fired meanwhile must be refused by the database (fence and compare-and-set)
    holder.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitSettled(others, 4 * TTL, 'the others take over while the owner is stopped');
    await waitFor(async () => (await fired(others[0]!)).filter((x) => x > stoppedAt).length >= 3, 20_000, 'three firings by the new owner');
    holder.kill('SIGCONT');
    const resumedAt = Date.now();
    await waitSettled(nodes, 6 * TTL, 'the stopped node rejoins', true);
    const times = (await waitFor(async () => {
      const all = await fired(others[0]!);
      return all.filter((x) => x > resumedAt).length >= 3 ? all : null;
    }, 20_000, 'three firings after the owner resumed'))!;
    for (const n of nodes) assert.deepEqual(await cronNames(await cluster.client(n)), ['tick'], `CRONLIST through ${n.nodeId}`);
    assertOncePerPeriod(times, t);
  });
});
