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

    // one firing per period: an interval cron's next run is its last run + 1 s, so two jobs less
    // than a second apart are one period fired twice; the failover may skip periods
    const times = after!;
    const gaps = times.slice(1).map((x, k) => x - times[k]!);
    t.diagnostic(`${times.length} firings over ${times.at(-1)! - times[0]!} ms; gaps ${gaps.join(' ')}`);
    const short = gaps.filter((g) => g < 1000);
    assert.deepEqual(short, [], 'no period fired twice');
    const before = times.filter((x) => x <= killedAt).length;
    assert.ok(before >= 4, `fired before the kill: ${before}`);
  });
});
