import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/server.js';
import { FlashqGrpc, json, type Raw, streamStatus } from '../grpc/client.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, queuesOn } from './cluster-jobs.js';
import { callRetrying, waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 3_000;
const cluster = new ClusterFixture();
const grpcClients: FlashqGrpc[] = [];
afterEach(async () => {
  for (const c of grpcClients.splice(0)) c.close();
  await cluster.cleanup();
});

describe('cluster mode: gRPC streams across a partition move', { skip: NO_PG }, () => {
  test('StreamJobs and ProcessJobs on A keep delivering after SIGKILL of the node owning their queue', async () => {
    const nodes = await cluster.start('cluster_grpc_streams', ['node-a', 'node-b', 'node-c'], TTL);
    const [a, , c] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    const served = await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    const [streamQ, processQ] = queuesOn(served, 2).get('node-c')!;
    const g = new FlashqGrpc(a.server.grpcPort);
    grpcClients.push(g);

    const streamed: number[] = [];
    const stream = g.streamJobs({ queue: streamQ, batchSize: 1 });
    stream.on('data', (job: Raw) => {
      streamed.push(job.id as number);
      void g.call('ack', { id: job.id }).catch(() => {});
    });
    const processed: number[] = [];
    const proc = g.processJobs({ metadata: { queue: processQ!, prefetch: '2' } });
    proc.on('data', (job: Raw) => {
      processed.push(job.id as number);
      proc.write({ id: job.id, success: true, result: json({ ok: true }) });
    });
    let streamEnd: string | null = null;
    let procEnd: string | null = null;
    void streamStatus(stream).then((s) => (streamEnd = `${s.code} ${s.details}`));
    void streamStatus(proc).then((s) => (procEnd = `${s.code} ${s.details}`));

    const ca = await cluster.client(a);
    const push = async (queue: string, n: number) => {
      const ids: number[] = [];
      for (let k = 0; k < n; k++) {
        const r = await callRetrying(ca, { cmd: 'PUSH', queue, data: { k } }, 20_000);
        assert.equal(r.ok, true, JSON.stringify(r));
        ids.push(r.id as number);
      }
      return ids;
    };
    const before = [...(await push(streamQ!, 3)), ...(await push(processQ!, 3))];
    await waitFor(() => streamed.length === 3 && processed.length === 3, 10_000, 'the first jobs on both streams');
    await waitFor(async () => {
      for (const id of before) if ((await ca.call({ cmd: 'GETSTATE', id })).state !== 'completed') return false;
      return true;
    }, 10_000, 'the first jobs completed');

    // the streams' pulls are parked on C: its link drops, then the partitions move to A or B
    c.kill('SIGKILL');
    await c.server.exited;
    await waitSettled(nodes.filter((n) => n !== c), 4 * TTL, 'the survivors serve every partition');
    const afterS = await push(streamQ!, 3);
    const afterP = await push(processQ!, 3);
    await waitFor(() => (streamed.length === 6 && processed.length === 6) || streamEnd !== null || procEnd !== null, 15_000, 'the jobs pushed after the move on both streams');
    assert.equal(streamEnd, null, 'StreamJobs is still open');
    assert.equal(procEnd, null, 'ProcessJobs is still open');
    assert.deepEqual(streamed.slice(3), afterS);
    assert.deepEqual(processed.slice(3), afterP);
    await waitFor(async () => {
      for (const id of [...afterS, ...afterP]) if ((await ca.call({ cmd: 'GETSTATE', id })).state !== 'completed') return false;
      return true;
    }, 10_000, 'the jobs delivered after the move completed through the streams');
    stream.cancel();
    proc.end();
  });
});
