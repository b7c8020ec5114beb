import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, drain, pushAll, queuesOn } from './cluster-jobs.js';
import { waitSettled } from './node-cluster.js';

// nodes.test.ts runs its nodes with SHARDS=0 (one inline shard); here each node runs two worker
// thread shards, so a partition gained, lost or forwarded goes to shard p % 2 of its node
const TTL = 3_000;
const SHARDS = { SHARDS: '2' };
const cluster = new ClusterFixture();
afterEach(() => cluster.cleanup());

const sorted = (ids: Iterable<number>) => [...ids].sort((x, y) => x - y);

describe('cluster mode with SHARDS=2 on every node', { skip: NO_PG }, () => {
  test('push through A, pull through B, ack through C; after a SIGKILL of the leader every job pushed before completes once', async (t) => {
    const three = await cluster.start('cluster_shards', ['node-a', 'node-b', 'node-c'], TTL, SHARDS);
    const served = await waitSettled(three, 30_000, 'three nodes share the partitions', true);
    // queues on each node, and on both of each node's shards
    const queues = [...queuesOn(served, 4).values()].flat();
    const [ca, cb, cc] = await Promise.all(three.map((n) => cluster.client(n)));
    const first = await pushAll(ca!, queues, 5);
    for (const c of [ca!, cb!, cc!]) {
      const s = await c.call({ cmd: 'STATS' });
      assert.equal(s.queued, first.size, `STATS through every node: ${JSON.stringify(s)}`);
    }
    assert.deepEqual(sorted(await drain(cb!, cc!, queues)), sorted(first.keys()), 'every job pulled through B and acked through C once');

    const pushed = await pushAll(cc!, queues, 5);
    const health = await Promise.all(three.map((n) => n.get<{ is_leader: boolean }>('/health')));
    const leader = three[health.findIndex((h) => h.is_leader)]!;
    const others = three.filter((n) => n !== leader);
    const t0 = Date.now();
    leader.kill('SIGKILL');
    await leader.server.exited;
    await waitSettled(others, 4 * TTL, 'the survivors serve every partition');
    t.diagnostic(`failover with SHARDS=2: ${Date.now() - t0} ms (LEASE_TTL_MS ${TTL})`);
    const [c0, c1] = await Promise.all(others.map((n) => cluster.client(n)));
    assert.deepEqual(sorted(await drain(c0!, c1!, queues)), sorted(pushed.keys()), 'every job pushed before the kill completes exactly once');
    const s = await c0!.call({ cmd: 'STATS' });
    assert.deepEqual([s.queued, s.processing], [0, 0]);
  });
});
