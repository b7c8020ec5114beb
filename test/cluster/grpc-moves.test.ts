import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { assign } from '../../src/cluster/assignment.js';
import { partitionOf } from '../../src/engine/partition.js';
import { waitFor } from '../helpers/server.js';
import type { WireClient } from '../helpers/wire.js';
import { FlashqGrpc, json, parse, type Raw, streamStatus } from '../grpc/client.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, ownerOfQueue, queuesOn } from './cluster-jobs.js';
import { callRetrying, PARTITION_COUNT, waitSettled, type ClusterProc } from './node-cluster.js';

const TTL = 3_000;
const cluster = new ClusterFixture();
const grpcClients: FlashqGrpc[] = [];
afterEach(async () => {
  for (const c of grpcClients.splice(0)) c.close();
  await cluster.cleanup();
});

interface StoredJob {
  state: string;
  attempts: number;
  result: unknown;
}

/** A job as GET /jobs/{id} on `via` shows it, or null while its partition moves. */
async function jobOf(via: ClusterProc, id: number): Promise<StoredJob | null> {
  try {
    return await via.get<StoredJob>(`/jobs/${id}`);
  } catch {
    return null;
  }
}

async function push(c: WireClient, queue: string, n: number, extra: object = {}): Promise<number[]> {
  const ids: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = await callRetrying(c, { cmd: 'PUSH', queue, data: { k }, ...extra }, 20_000);
    assert.equal(r.ok, true, `PUSH to ${queue}: ${JSON.stringify(r)}`);
    ids.push(r.id as number);
  }
  return ids;
}

/** Wait until every job of `ids` is completed (seen through `via`); returns them. */
async function completed(via: ClusterProc, ids: number[], timeoutMs: number, what: string): Promise<Map<number, StoredJob>> {
  const jobs = new Map<number, StoredJob>();
  await waitFor(async () => {
    for (const id of ids) {
      if (jobs.has(id)) continue;
      const j = await jobOf(via, id);
      if (j === null || j.state !== 'completed') return false;
      jobs.set(id, j);
    }
    return true;
  }, timeoutMs, what);
  return jobs;
}

const byId = (x: number, y: number) => x - y;

describe('cluster mode: gRPC streams while partitions move', { skip: NO_PG }, () => {
  test('ProcessJobs on B goes on when results are refused because their owner died; the jobs come back on it and complete', async () => {
    const nodes = await cluster.start('cluster_grpc_results', ['node-a', 'node-b', 'node-c'], TTL);
    const [a, b] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    const served = await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    const queue = queuesOn(served, 1).get('node-a')![0]!;
    const g = new FlashqGrpc(b.server.grpcPort);
    grpcClients.push(g);
    const got: number[] = [];
    const proc = g.processJobs({ metadata: { queue, prefetch: '4' } });
    proc.on('data', (job: Raw) => got.push(job.id as number));
    let procEnd: string | null = null;
    const ended = streamStatus(proc).then((s) => (procEnd = `${s.code} ${s.details}`));

    const cb = await cluster.client(b);
    // retried at once when their lease is lost (attempts left, no back-off)
    const ids = await push(cb, queue, 2, { max_attempts: 3, backoff: 0 });
    await waitFor(() => got.length === 2, 10_000, 'both jobs delivered on the stream');
    assert.deepEqual([...got].sort(byId), [...ids].sort(byId));

    a.kill('SIGKILL');
    await a.server.exited;
    // the owner is gone, its leases with it: B's link to A refuses both results (a plain success
    // goes in an AckBatch, one with a payload as a JobResult of its own)
    proc.write({ id: ids[0], success: true });
    proc.write({ id: ids[1], success: true, result: json({ try: 1 }) });
    await waitFor(() => got.length === 4 || procEnd !== null, 8 * TTL, 'both jobs delivered again after the failover');
    assert.equal(procEnd, null, 'ProcessJobs is still open');
    assert.deepEqual([...got.slice(2)].sort(byId), [...ids].sort(byId), 'the same jobs come back on the stream');

    proc.write({ id: ids[0], success: true });
    proc.write({ id: ids[1], success: true, result: json({ try: 2 }) });
    const done = await completed(b, ids, 10_000, 'the jobs completed by their second results');
    for (const id of ids) assert.equal(done.get(id)!.attempts, 2, `job ${id}: the lost attempt and the one that completed it`);
    assert.deepEqual(done.get(ids[1]!)!.result, { try: 2 });

    // the stream keeps delivering what is pushed later
    const [later] = await push(cb, queue, 1);
    await waitFor(() => got.length === 5 || procEnd !== null, 10_000, 'a job pushed after the failover');
    assert.equal(got[4], later);
    proc.write({ id: later, success: true });
    const last = await completed(b, [later!], 10_000, 'the later job completed');
    assert.equal(last.get(later!)!.attempts, 1);
    assert.equal(procEnd, null);
    proc.end();
    await ended;
    assert.match(procEnd!, /^0 /, 'the stream ends when the client ends it');
  });

  test('StreamJobs and ProcessJobs on A deliver every job once while their partitions move to a node that joins', async () => {
    const nodes = await cluster.start('cluster_grpc_join', ['node-a', 'node-b', 'node-c'], TTL);
    const [a] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    const served = await waitSettled(nodes, 20_000, 'three nodes share the partitions', true);
    // the partitions the join moves to D (the leader's own rule), from A (the streams' node) and from B
    const current = new Array<string | null>(PARTITION_COUNT).fill(null);
    for (const [id, ps] of served) for (const p of ps) current[p] = id;
    const next = assign(current, [...served.keys(), 'node-d']);
    const moving = (from: string) => new Set(current.flatMap((o, p) => (o === from && next[p] === 'node-d' ? [p] : [])));
    const pick = (parts: Set<number>, n: number): string[] => {
      const out: string[] = [];
      for (let i = 0; out.length < n; i++) if (parts.has(partitionOf(`mv-${i}`))) out.push(`mv-${i}`);
      return out;
    };
    const [streamLocal, procLocal] = pick(moving('node-a'), 2) as [string, string];
    const [streamRemote, procRemote] = pick(moving('node-b'), 2) as [string, string];
    const queues = [streamLocal, procLocal, streamRemote, procRemote];

    const g = new FlashqGrpc(a.server.grpcPort);
    grpcClients.push(g);
    const delivered = new Map<string, number[]>(queues.map((q) => [q, []]));
    const ends = new Map<string, string>();
    const ackFailures: string[] = [];
    for (const q of [streamLocal, streamRemote]) {
      const s = g.streamJobs({ queue: q, batchSize: 2 });
      s.on('data', (job: Raw) => {
        delivered.get(q)!.push(job.id as number);
        g.call('ack', { id: job.id }).catch((e: Error) => ackFailures.push(`${job.id}: ${e.message}`));
      });
      void streamStatus(s).then((st) => ends.set(q, `${st.code} ${st.details}`));
    }
    // a job marked `hold` is answered only when the test says (its worker is busy across the join)
    const held = new Map<string, number>();
    const procs = new Map<string, Raw>();
    for (const q of [procLocal, procRemote]) {
      const p = g.processJobs({ metadata: { queue: q, prefetch: '2' } });
      procs.set(q, p);
      p.on('data', (job: Raw) => {
        const id = job.id as number;
        delivered.get(q)!.push(id);
        const { k, hold } = parse(job.data) as { k: number; hold?: boolean };
        if (hold === true && !held.has(q)) return void held.set(q, id);
        p.write(k % 2 === 0 ? { id, success: true } : { id, success: true, result: json({ k }) });
      });
      void streamStatus(p).then((st) => ends.set(q, `${st.code} ${st.details}`));
    }

    const ca = await cluster.client(a);
    const pushed = new Map<string, number[]>(queues.map((q) => [q, []]));
    const pushEach = async (n: number) => {
      for (const q of queues) pushed.get(q)!.push(...(await push(ca, q, n)));
    };
    const allDelivered = (what: string) =>
      waitFor(() => ends.size > 0 || queues.every((q) => delivered.get(q)!.length >= pushed.get(q)!.length), 8 * TTL, what);

    // before the join: delivered and completed on A and B
    await pushEach(3);
    await allDelivered('the jobs pushed before the join');
    await completed(a, queues.flatMap((q) => pushed.get(q)!), 10_000, 'the first jobs completed');

    // a job each ProcessJobs worker holds across the join: the old owner returns its lease before
    // the move (no attempt spent), so it waits at the new owner and is delivered once more
    const holdIds = new Map<string, number>();
    for (const q of [procLocal, procRemote]) holdIds.set(q, (await push(ca, q, 1, { data: { k: 0, hold: true }, max_attempts: 3, backoff: 0 }))[0]!);
    await waitFor(() => held.size === 2, 10_000, 'the held jobs delivered');
    assert.deepEqual([...held].sort(), [...holdIds].sort());

    // pushed before the join, delivered only after it: the queues are paused meanwhile, so these
    // jobs move with their partitions while the streams' pulls wait on the old owners
    for (const q of queues) assert.equal((await callRetrying(ca, { cmd: 'PAUSE', queue: q })).ok, true);
    await pushEach(3);
    // meanwhile each ProcessJobs worker sends results again for jobs it completed before: ignored
    // before and after the move, refused while the partition moves (which must not end the stream)
    const done1 = new Map([procLocal, procRemote].map((q) => [q, pushed.get(q)![0]!]));
    const repeat = setInterval(() => {
      for (const [q, id] of done1) procs.get(q)!.write({ id, success: true });
    }, 20);
    let d: ClusterProc;
    try {
      d = await cluster.add('node-d', TTL);
      await waitSettled([...nodes, d], 8 * TTL, 'D took its share', true);
    } finally {
      clearInterval(repeat);
    }
    for (const q of queues) assert.equal(await ownerOfQueue(a, q), 'node-d', `${q} moved to D`);
    // the held jobs' results, late: the lease they answer is gone
    for (const [q, id] of held) procs.get(q)!.write({ id, success: true });
    for (const q of queues) assert.equal((await callRetrying(ca, { cmd: 'RESUME', queue: q }, 20_000)).ok, true);
    await pushEach(3);
    for (const [q, id] of holdIds) pushed.get(q)!.push(id, id);
    await allDelivered('every job, pushed before and after the join');

    assert.deepEqual([...ends], [], 'every stream is still open');
    for (const q of queues) {
      assert.deepEqual([...delivered.get(q)!].sort(byId), [...pushed.get(q)!].sort(byId), `${q}: every job delivered once (a held one twice)`);
    }
    const all = [...new Set(queues.flatMap((q) => pushed.get(q)!))];
    const done = await completed(d, all, 15_000, 'every job completed');
    // the held ones too: their first delivery was returned with the move, not counted
    for (const id of all) assert.equal(done.get(id)!.attempts, 1, `job ${id} completed once: ${JSON.stringify(done.get(id))}`);
    assert.deepEqual(ackFailures, [], 'every Ack was answered ok');
  });
});
