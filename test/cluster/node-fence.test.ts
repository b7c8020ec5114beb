import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterNode } from '../../src/cluster/node.js';
import { migrateDatabase } from '../../src/store/schema.js';
import { waitFor } from '../helpers/server.js';
import { NO_PG, freshDatabase } from '../store/pg.js';

// Seen in the cluster crash run on a loaded machine: a partition's lease ran out locally while its
// load was slow, the agent took it again at a new epoch while the shard was still leaving the old
// one (that gain was refused, to be retried), then the shard's commit under the old epoch was
// fenced. The fence report must not make the node forget the new lease: it would hold the
// partition, renew it, and serve it nowhere.
test('a fence report of an earlier epoch does not drop a partition whose gain waits for its retry', { skip: NO_PG, timeout: 60_000 }, async () => {
  const url = await freshDatabase('cluster_node_fence');
  await migrateDatabase(url);
  const P = 7;
  let refusals = 0;
  let node: ClusterNode | null = null;
  node = new ClusterNode(
    { url, nodeId: 'node-f', host: '127.0.0.1', port: 1, httpPort: 2, grpcPort: 3, clusterPort: 4, leaseTtlMs: 4000 },
    {
      gain: async (p) => {
        if (p === P && refusals === 0) {
          refusals++;
          // the shard still leaves the earlier epoch: it refuses this gain, and reports the
          // earlier epoch's commit fenced
          queueMicrotask(() => node!.fenced(P));
          throw new Error('not this shard\'s partition, bad epoch, or already served, loading or leaving');
        }
      },
      lose: async () => {},
      routeChanged: () => {},
      peersChanged: () => {},
    },
  );
  try {
    await node.start();
    await waitFor(() => node!.served().length === 256, 20_000, 'every partition served, the refused one after its retry');
    assert.equal(refusals, 1);
  } finally {
    await node.stop();
  }
});
