import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/server.js';
import { Api } from '../http/client.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture } from './cluster-jobs.js';
import { waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 4_000;
const MISSING = 'x-flashq-missing-nodes';
const cluster = new ClusterFixture();
afterEach(() => cluster.cleanup());

describe('cluster mode: GET /workers with a dead node', { skip: NO_PG }, () => {
  test('answers 200 with the live nodes\' workers after a SIGKILL, before and after the dead node\'s lease expires', async () => {
    const nodes = await cluster.start('cluster_workers_dead', ['node-a', 'node-b', 'node-c'], TTL);
    const [a, b, c] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    const [apiA, apiB, apiC] = [a, b, c].map((n) => new Api(n.server.httpPort)) as [Api, Api, Api];
    for (const [api, id] of [[apiA, 'w-a'], [apiB, 'w-b'], [apiC, 'w-c']] as const) {
      const r = await api.post(`/workers/${id}/heartbeat`, { queues: ['q'], concurrency: 1 });
      assert.equal(r.status, 200, r.raw);
    }
    const ids = (data: unknown) => (data as Array<{ id: string }>).map((w) => w.id).sort();
    const all = await apiA.get('/workers');
    assert.equal(all.status, 200, all.raw);
    assert.deepEqual(ids(all.data), ['w-a', 'w-b', 'w-c']);
    assert.equal(all.headers[MISSING], undefined, 'every node answered');

    c.kill('SIGKILL');
    await c.server.exited;
    // C is still in the nodes table and live by its last heartbeat: A and B still ask it
    for (const api of [apiA, apiB]) {
      const r = await api.get('/workers');
      assert.equal(r.status, 200, r.raw);
      assert.deepEqual(ids(r.data), ['w-a', 'w-b'], `the live nodes' workers: ${r.raw}`);
      assert.equal(r.headers[MISSING], 'node-c', 'the answer names the node whose workers it lacks');
    }
    const view = await a.get<Array<{ node_id: string; live: boolean }>>('/cluster/nodes');
    assert.equal(view.find((n) => n.node_id === 'node-c')?.live, true, 'those answers came before C\'s heartbeat expired');

    // once C's heartbeat expired it is no longer asked (its row stays until the leader prunes it)
    await waitFor(async () => {
      const r = await apiA.get('/workers');
      assert.equal(r.status, 200, r.raw);
      assert.deepEqual(ids(r.data), ['w-a', 'w-b'], r.raw);
      return r.headers[MISSING] === undefined;
    }, 6 * TTL, 'GET /workers on A no longer asking the dead node');
    const after = await a.get<Array<{ node_id: string; live: boolean }>>('/cluster/nodes');
    assert.equal(after.find((n) => n.node_id === 'node-c')?.live, false, 'C is listed, not live');
    const r = await apiB.get('/workers');
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(ids(r.data), ['w-a', 'w-b'], r.raw);
  });
});
