import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/server.js';
import type { WireClient } from '../helpers/wire.js';
import { freshDatabase, NO_PG } from '../store/pg.js';
import { callRetrying, ClusterProc, waitSettled } from './node-cluster.js';
import { drain, pushAll, queuesOn } from './cluster-jobs.js';

// Short leases keep failover tests short; renewals every TTL/4 must still absorb a loaded machine.
const TTL = 3_000;

let procs: ClusterProc[] = [];
let clients: WireClient[] = [];

afterEach(async () => {
  for (const c of clients) c.destroy();
  for (const p of procs) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await Promise.all(procs.map((p) => p.server.exited));
  procs = [];
  clients = [];
});

async function nodes(db: string, ids: string[]): Promise<ClusterProc[]> {
  const url = await freshDatabase(db);
  // one after the other: the first migrates, and each later one joins a running cluster
  const out: ClusterProc[] = [];
  for (const id of ids) {
    const n = await ClusterProc.start(url, id, TTL);
    procs.push(n);
    out.push(n);
  }
  return out;
}

async function client(n: ClusterProc): Promise<WireClient> {
  const c = await n.tcp();
  clients.push(c);
  return c;
}

describe('cluster mode: three nodes over one PostgreSQL', { skip: NO_PG }, () => {
  test('pushes through A are pulled through B, acked through C, and every node answers the merged view', async () => {
    const [a, b, c] = await nodes('cluster_three', ['node-a', 'node-b', 'node-c']);
    const served = await waitSettled([a!, b!, c!], 20_000, 'three nodes share the partitions', true);
    assert.deepEqual([...served.values()].map((ps) => ps.length).sort(), [85, 85, 86]);
    const queues = [...queuesOn(served, 3).values()].flat();
    const ca = await client(a!);
    const cb = await client(b!);
    const cc = await client(c!);
    const pushed = await pushAll(ca, queues, 10);
    assert.equal(pushed.size, 90);

    for (const n of [cb, cc, ca]) {
      const s = await n.call({ cmd: 'STATS' });
      assert.equal(s.ok, true);
      assert.equal(s.queued, 90, `STATS through every node counts every partition: ${JSON.stringify(s)}`);
      const lq = await n.call({ cmd: 'LISTQUEUES' });
      for (const q of queues) assert.ok((lq.queues as Array<{ name: string }>).some((x) => x.name === q), `LISTQUEUES has ${q}`);
    }
    for (const [id, q] of [...pushed].slice(0, 12)) {
      const j = await cc.call({ cmd: 'GETJOB', id });
      assert.equal(j.ok, true);
      assert.equal(j.job.queue, q);
      assert.equal(j.state, 'waiting');
    }

    const got = await drain(cb, cc, queues);
    assert.deepEqual([...got].sort((x, y) => x - y), [...pushed.keys()].sort((x, y) => x - y), 'every job pulled exactly once');
    for (const id of got.slice(0, 20)) {
      const st = await ca.call({ cmd: 'GETSTATE', id });
      assert.equal(st.state, 'completed');
    }
    const s = await ca.call({ cmd: 'STATS' });
    assert.deepEqual([s.queued, s.processing], [0, 0]);
  });

  test('a job pulled through a connection to B fails back when that connection closes, wherever its partition lives', async () => {
    const [a, b] = await nodes('cluster_connlost', ['node-a', 'node-b']);
    const served = await waitSettled([a!, b!], 20_000, 'two nodes share the partitions', true);
    const [q] = queuesOn(new Map([['node-a', served.get('node-a')!]]), 1).get('node-a')!;
    const ca = await client(a!);
    const pushed = await callRetrying(ca, { cmd: 'PUSH', queue: q!, data: 1, max_attempts: 3 });
    const cb = await client(b!);
    const pulled = await callRetrying(cb, { cmd: 'PULL', queue: q!, timeout: 0 });
    assert.equal(pulled.job.id, pushed.id);
    cb.destroy();
    const again = await waitFor(async () => {
      const j = await ca.call({ cmd: 'GETJOB', id: pushed.id });
      return j.state !== 'active' ? j : null;
    }, 10_000, 'the lease to fail back');
    assert.equal(again!.job.progress_msg, 'worker connection lost');
  });

  test('SIGKILL of the leader: a new leader serves every partition within 2 × LEASE_TTL_MS and every job completes once', async (t) => {
    const three = await nodes('cluster_kill_leader', ['node-a', 'node-b', 'node-c']);
    const served = await waitSettled(three, 20_000, 'three nodes share the partitions', true);
    const queues = [...queuesOn(served, 2).values()].flat();
    const health = await Promise.all(three.map((n) => n.get<{ is_leader: boolean }>('/health')));
    const leader = three[health.findIndex((h) => h.is_leader)]!;
    assert.ok(leader, 'one node is leader');
    const others = three.filter((n) => n !== leader);
    const c0 = await client(others[0]!);
    const pushed = await pushAll(c0, queues, 5);

    const t0 = Date.now();
    leader.kill('SIGKILL');
    await leader.server.exited;
    await waitSettled(others, 4 * TTL, 'the survivors serve every partition');
    const failover = Date.now() - t0;
    t.diagnostic(`cluster failover after SIGKILL of the leader: ${failover} ms with LEASE_TTL_MS ${TTL}`);
    assert.ok(failover <= 2 * TTL + 1000, `failover took ${failover} ms (TTL ${TTL})`);
    const newLeader = await Promise.all(others.map((n) => n.get<{ is_leader: boolean }>('/health')));
    assert.equal(newLeader.filter((h) => h.is_leader).length, 1, 'one survivor leads');

    const c1 = await client(others[1]!);
    const got = await drain(c1, c0, queues);
    assert.deepEqual([...got].sort((x, y) => x - y), [...pushed.keys()].sort((x, y) => x - y), 'every job pushed before the kill completes exactly once');
  });

  test('SIGSTOP past the lease, then SIGCONT: the stopped node rejoins and nothing is lost or duplicated', async (t) => {
    const three = await nodes('cluster_stop', ['node-a', 'node-b', 'node-c']);
    const served = await waitSettled(three, 20_000, 'three nodes share the partitions', true);
    const queues = [...queuesOn(served, 2).values()].flat();
    const [a, b, c] = three as [ClusterProc, ClusterProc, ClusterProc];
    const cc = await client(c);
    const pushedBefore = await pushAll(cc, queues, 3);

    c.kill('SIGSTOP');
    // a push C reads only after SIGCONT, possibly before it noticed its leases are gone: its
    // commit must be fenced (refused, nothing stored) unless C still holds the partition
    const onC = queuesOn(served, 1).get('node-c')![0]!;
    cc.write({ cmd: 'PUSH', queue: onC, data: { stale: true } });
    await waitSettled([a, b], 4 * TTL, 'A and B take over while C is stopped');
    const ca = await client(a);
    const pushedDuring = await pushAll(ca, queues, 2);
    c.kill('SIGCONT');
    const stale = await cc.next(10_000);
    t.diagnostic(`the push C read after SIGCONT was answered ${JSON.stringify(stale)}`);
    if (stale.ok === true) pushedDuring.set(stale.id as number, onC);
    else assert.match(String(stale.error), /not served|Storage unavailable|no longer holds/, `the stale push was refused: ${JSON.stringify(stale)}`);
    // C finds its leases gone, stops serving them, and takes a share again
    await waitSettled(three, 6 * TTL, 'C rejoins', true);
    const pushedAfter = await pushAll(cc, queues, 1);

    const cb = await client(b);
    const got = await drain(cb, cc, queues);
    const all = [...pushedBefore.keys(), ...pushedDuring.keys(), ...pushedAfter.keys()].sort((x, y) => x - y);
    assert.equal(new Set(got).size, got.length, 'no job delivered twice');
    assert.deepEqual([...got].sort((x, y) => x - y), all, 'every acknowledged push is delivered');
  });

  test('a node joining takes its share of partitions without losing a job', async () => {
    const url = await freshDatabase('cluster_join');
    const a = await ClusterProc.start(url, 'node-a', TTL);
    const b = await ClusterProc.start(url, 'node-b', TTL);
    procs.push(a, b);
    const served = await waitSettled([a, b], 20_000, 'two nodes share the partitions', true);
    const queues = [...queuesOn(served, 4).values()].flat();
    const ca = await client(a);
    const pushed = await pushAll(ca, queues, 4);
    const c = await ClusterProc.start(url, 'node-c', TTL);
    procs.push(c);
    const after = await waitSettled([a, b, c], 6 * TTL, 'C takes a third', true);
    assert.deepEqual([...after.values()].map((ps) => ps.length).sort(), [85, 85, 86]);
    const cc = await client(c);
    const got = await drain(cc, ca, queues);
    assert.deepEqual([...got].sort((x, y) => x - y), [...pushed.keys()].sort((x, y) => x - y));
  });
});
