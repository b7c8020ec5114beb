import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Api } from '../http/client.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture } from './cluster-jobs.js';
import { waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 3_000;
const cluster = new ClusterFixture();
afterEach(() => cluster.cleanup());

describe('cluster mode: GET /workers', { skip: NO_PG }, () => {
  test('lists the workers of every node through any node, a worker seen by two nodes once with its latest heartbeat', async () => {
    const nodes = await cluster.start('cluster_workers', ['node-a', 'node-b'], TTL);
    const [a, b] = nodes as [ClusterProc, ClusterProc];
    await waitSettled(nodes, 20_000, 'two nodes share the partitions', true);
    const apiA = new Api(a.server.httpPort);
    const apiB = new Api(b.server.httpPort);
    const beat = async (api: Api, id: string, body: object) => {
      const r = await api.post(`/workers/${id}/heartbeat`, body);
      assert.equal(r.status, 200, r.raw);
    };
    await beat(apiA, 'w-a', { queues: ['qa'], concurrency: 2 });
    await beat(apiB, 'w-b', { queues: ['qb'], concurrency: 3, jobs_processed: 7 });
    await beat(apiA, 'w-both', { queues: ['q1'], concurrency: 1, jobs_processed: 1 });
    // the later heartbeat, through the other node, carries the newer figures
    await new Promise((r) => setTimeout(r, 5));
    await beat(apiB, 'w-both', { queues: ['q1', 'q2'], concurrency: 4, jobs_processed: 9 });

    for (const api of [apiA, apiB]) {
      const list = await api.get('/workers');
      assert.equal(list.status, 200, list.raw);
      const ws = list.data as Array<{ id: string; queues: string[]; concurrency: number; jobs_processed: number; last_heartbeat: number }>;
      assert.deepEqual(ws.map((w) => w.id).sort(), ['w-a', 'w-b', 'w-both'], `every node's workers, once each: ${list.raw}`);
      const both = ws.find((w) => w.id === 'w-both')!;
      assert.deepEqual([both.queues, both.concurrency, both.jobs_processed], [['q1', 'q2'], 4, 9]);
      const wb = ws.find((w) => w.id === 'w-b')!;
      assert.deepEqual([wb.queues, wb.concurrency, wb.jobs_processed], [['qb'], 3, 7]);
      const beats = ws.map((w) => w.last_heartbeat);
      assert.deepEqual(beats, [...beats].sort((x, y) => y - x), 'most recent first');
    }
  });
});
