import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { partitionOf } from '../../src/engine/partition.js';
import { NO_PG } from '../store/pg.js';
import { ClusterFixture, queuesOn } from './cluster-jobs.js';
import { callRetrying, waitSettled } from './node-cluster.js';

const TTL = 3_000;
const cluster = new ClusterFixture();
afterEach(() => cluster.cleanup());

describe('cluster mode: leases across a planned move', { skip: NO_PG }, () => {
  test('a node joining: jobs held by a worker on moved partitions wait again with no attempt spent (max_attempts 1), the rest stay held', async () => {
    const [a, b] = await cluster.start('cluster_join_leases', ['node-a', 'node-b'], TTL);
    const served = await waitSettled([a!, b!], 20_000, 'two nodes share the partitions', true);
    // 24 queues: C takes a third of the partitions, so some of them move (all stay: p ≈ 6e-5)
    const queues = [...queuesOn(served, 12).values()].flat();
    const ca = await cluster.client(a!);
    const pushed: number[] = [];
    for (const q of queues) {
      for (let k = 0; k < 2; k++) {
        const r = await callRetrying(ca, { cmd: 'PUSH', queue: q, data: { q, k } });
        assert.equal(r.ok, true, `PUSH to ${q}: ${JSON.stringify(r)}`);
        pushed.push(r.id as number);
      }
    }
    // a worker on A holds every job (max_attempts is 1: a lease failed back would dead-letter it)
    const worker = await cluster.client(a!);
    const held = new Map<number, string>();
    for (const q of queues) {
      const r = await callRetrying(worker, { cmd: 'PULLB', queue: q, count: 2, timeout: 0 });
      for (const j of r.jobs as Array<{ id: number }>) held.set(j.id, q);
    }
    assert.equal(held.size, pushed.length, 'every job is held');

    const c = await cluster.add('node-c', TTL);
    const after = await waitSettled([a!, b!, c], 6 * TTL, 'C takes a third', true);
    const onC = new Set(after.get('node-c')!);
    const moved = [...held].filter(([, q]) => onC.has(partitionOf(q))).map(([id]) => id);
    const stayed = [...held].filter(([, q]) => !onC.has(partitionOf(q))).map(([id]) => id);
    assert.ok(moved.length > 0 && stayed.length > 0, `some jobs moved (${moved.length}), some stayed (${stayed.length})`);

    const cc = await cluster.client(c);
    for (const id of moved) {
      const j = await callRetrying(cc, { cmd: 'GETJOB', id });
      assert.deepEqual([j.state, j.job.attempts], ['waiting', 0], `moved job ${id}: ${JSON.stringify(j)}`);
    }
    for (const id of stayed) {
      const j = await callRetrying(cc, { cmd: 'GETJOB', id });
      assert.deepEqual([j.state, j.job.attempts], ['active', 1], `job ${id} that stayed`);
    }
    // the worker's ACKs: those of jobs that stayed complete them; those of moved jobs are refused
    for (const id of stayed) assert.equal((await callRetrying(worker, { cmd: 'ACK', id })).ok, true, `ACK ${id}`);
    for (const id of moved) assert.equal((await callRetrying(worker, { cmd: 'ACK', id })).ok, false, `ACK of moved job ${id}`);

    // the moved jobs are delivered again, once each, and complete on their first counted attempt
    const again: number[] = [];
    for (const q of new Set(moved.map((id) => held.get(id)!))) {
      const r = await callRetrying(cc, { cmd: 'PULLB', queue: q, count: 10, timeout: 0 });
      const ids = (r.jobs as Array<{ id: number }>).map((j) => j.id);
      assert.equal((await callRetrying(ca, { cmd: 'ACKB', ids })).ok, true);
      again.push(...ids);
    }
    assert.deepEqual(again.sort((x, y) => x - y), [...moved].sort((x, y) => x - y));
    for (const id of pushed) {
      const j = await callRetrying(ca, { cmd: 'GETJOB', id });
      assert.equal(j.state, 'completed', `job ${id}`);
      assert.equal(j.job.attempts, 1, `job ${id} spent one attempt`);
    }
    const s = await ca.call({ cmd: 'STATS' });
    assert.deepEqual([s.queued, s.processing, s.dlq], [0, 0, 0]);
  });

  test('a node stopped with SIGTERM hands its partitions over: jobs held through another node wait again with no attempt spent', async () => {
    const [a, b] = await cluster.start('cluster_stop_leases', ['node-a', 'node-b'], TTL);
    const served = await waitSettled([a!, b!], 20_000, 'two nodes share the partitions', true);
    const queues = queuesOn(served, 4).get('node-a')!;
    const cb = await cluster.client(b!);
    const pushed: number[] = [];
    for (const q of queues) pushed.push((await callRetrying(cb, { cmd: 'PUSH', queue: q, data: { q } })).id as number);
    // the worker is connected to B: its connection outlives A
    const worker = await cluster.client(b!);
    const held: number[] = [];
    for (const q of queues) held.push(...((await callRetrying(worker, { cmd: 'PULLB', queue: q, count: 1, timeout: 0 })).jobs as Array<{ id: number }>).map((j) => j.id));
    assert.deepEqual(held.sort(), [...pushed].sort());

    a!.kill('SIGTERM');
    await a!.server.exited;
    await waitSettled([b!], 4 * TTL, 'B serves every partition');
    for (const id of pushed) {
      const j = await callRetrying(cb, { cmd: 'GETJOB', id });
      assert.deepEqual([j.state, j.job.attempts], ['waiting', 0], `job ${id}: ${JSON.stringify(j)}`);
    }
    const again: number[] = [];
    for (const q of queues) again.push(...((await callRetrying(worker, { cmd: 'PULLB', queue: q, count: 10, timeout: 0 })).jobs as Array<{ id: number }>).map((j) => j.id));
    assert.deepEqual(again.sort(), [...pushed].sort(), 'each delivered again once');
    assert.equal((await callRetrying(worker, { cmd: 'ACKB', ids: again })).ok, true);
    const s = await cb.call({ cmd: 'STATS' });
    assert.deepEqual([s.queued, s.processing, s.dlq], [0, 0, 0]);
  });
});
