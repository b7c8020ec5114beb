import { JobRows } from '../../src/engine/job-rows.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import type { RestoreInput } from '../../src/engine/api.js';
import { snapshotJob } from '../../src/engine/job.js';
import { partitionOf, partitionOfId } from '../../src/engine/partition.js';
import type { Changes } from '../../src/engine/types.js';
import { FakeStore } from './fake-store.js';
import { T0, engine, push } from './helpers.js';

/** A queue name hashing to partition p (other than those in `not`). */
function queueIn(p: number, prefix: string, not: string[] = []): string {
  for (let i = 0; ; i++) {
    const name = `${prefix}${i}`;
    if (partitionOf(name) === p && !not.includes(name)) return name;
  }
}

const qa = 'alpha';
const PA = partitionOf(qa);
const qb = queueIn((PA + 7) % 256, 'beta');
const PB = partitionOf(qb);
const qb2 = queueIn(PB, 'beta', [qb]);
const EMPTY: RestoreInput = { jobs: new JobRows(), queues: [], crons: [], seqs: [] };
/** the worker connection both partitions' jobs are leased to */
const OWNER = 7;

/** A cluster engine: starts with no partition. */
function clusterEngine(): Engine {
  return engine({ owns: () => false, persist: true });
}

/**
 * Stored state of partition PB, made by an engine that served it: every state (waiting at two
 * priorities, delayed, ttl, unique key, active with a timeout, completed, failed, a child on a
 * pending parent), queue settings (paused, rate limit), a cron. Returns the rows and their ids.
 */
function storedPartitionB(): { input: RestoreInput; ids: number[] } {
  const src = engine({ owns: (p) => p === PB, persist: true });
  const ids = [
    push(src, qb, { data: '"w1"' }),
    push(src, qb, { data: '"w2"', priority: 5 }),
    push(src, qb, { data: '"delayed"', delay: 60_000 }),
    push(src, qb, { data: '"ttl"', ttl: 30_000 }),
    push(src, qb, { data: '"unique"', uniqueKey: 'k1' }),
    push(src, qb2, { data: '"run"', timeout: 5_000, maxAttempts: 3, backoff: 0 }),
    push(src, qb2, { data: '"done"' }),
    push(src, qb2, { data: '"dead"' }),
  ];
  const parent = push(src, qb2, { data: '"parent"' });
  ids.push(parent, push(src, qb, { data: '"child"', dependsOn: [parent] }));
  // qb2 is FIFO: run, done, dead, parent
  const [run, done, dead] = src.pull(qb2, 3, T0 + 1, 99).map((j) => j.id);
  src.ack(done!, '"ok"', T0 + 2);
  src.fail(dead!, 'boom', T0 + 2);
  assert.equal(src.getState(run!), 'active');
  src.pause(qb2);
  src.setRateLimit(qb, 1000, T0);
  src.cronUpsert('tick-b', qb, '*/30 * * * * *', '"cron"', 0, T0);
  const store = new FakeStore();
  store.apply(src.takeChanges());
  return { input: store.input(), ids };
}

/** The same work on partition PA, done to any engine serving it. */
function workOnA(e: Engine, now: number): number[] {
  const parent = push(e, qa, { data: '"pa-parent"' }, now);
  const out = [
    push(e, qa, { data: '"pa-1"', timeout: 1000 }, now),
    push(e, qa, { data: '"pa-2"', delay: 500 }, now),
    parent,
    push(e, qa, { data: '"pa-child"', dependsOn: [parent] }, now),
  ];
  e.pull(qa, 1, now, OWNER);
  return out;
}

/** What an observer sees (STATS, LISTQUEUES, JOBS, GETJOB, CRONLIST), and what the engine holds. */
function observed(e: Engine, ids: number[]) {
  return {
    stats: e.stats(),
    queues: e.listQueues(),
    jobs: e.listJobs({}, 1000, 0).map(snapshotJob),
    byId: ids.map((id) => {
      const v = e.getJob(id);
      return v === null ? null : snapshotJob(v);
    }),
    crons: e.cronList(),
    footprint: e.footprint(),
    nextDue: e.nextDue(),
  };
}

/** The changes of a turn by id and name (of partition `only`, if given). */
function changedIds(c: Changes, only = -1): Record<string, unknown> {
  const id = (x: number) => only < 0 || partitionOfId(x) === only;
  const name = (n: string) => only < 0 || partitionOf(n) === only;
  return {
    inserted: c.inserted.map((v) => v.id).filter(id).sort(),
    updated: c.updated.map((v) => v.id).filter(id).sort(),
    deleted: c.deleted.filter(id).sort(),
    queues: c.queues.map((q) => q.name).filter(name).sort(),
    crons: c.cronsUpserted.filter((cr) => name(cr.queue)).map((cr) => cr.name).sort(),
    seqs: c.seqs.filter((s) => only < 0 || s.partition === only),
  };
}

test('adopting a partition and dropping it leaves the engine as if it had never held it', () => {
  const { input, ids: bIds } = storedPartitionB();
  const a = clusterEngine();
  const b = clusterEngine();
  a.adoptPartitions([PA], EMPTY, T0);
  b.adoptPartitions([PA], EMPTY, T0);
  const aIds = workOnA(a, T0 + 1);
  assert.deepEqual(workOnA(b, T0 + 1), aIds);

  a.adoptPartitions([PB], input, T0 + 10);
  assert.deepEqual(a.heldPartitions(), [PA, PB].sort((x, y) => x - y));
  // serve it a while: leases to the same worker as PA's, timers due, a child of PA on a PB parent
  const pbParent = bIds[8]!;
  assert.equal(a.getState(pbParent), 'waiting');
  const aChild = push(a, qa, { data: '"pa-on-pb"', dependsOn: [pbParent] }, T0 + 11);
  // B pushes (and later cancels) a job in its place, so both use the same ids
  assert.equal(push(b, qa, { data: '"pa-on-pb"' }, T0 + 11), aChild);
  assert.equal(a.getState(aChild), 'waiting-children');
  assert.ok(a.pull(qb, 2, T0 + 12, OWNER).length > 0);
  a.tick(T0 + 400);
  b.tick(T0 + 400);
  assert.equal(a.getJob(bIds[0]!)?.queue, qb);

  const held = a.footprint().jobs - b.footprint().jobs;
  assert.equal(a.dropPartitions([PB]), held);
  assert.deepEqual(a.heldPartitions(), [PA]);
  // the PA child now waits on a remote parent; B never had it: take it out of the comparison
  assert.deepEqual(a.pendingRemoteParents(), [{ parentId: pbParent, partition: PB, watcher: PA }]);
  a.parentResolved(pbParent, 'completed', T0 + 401);
  assert.equal(a.getState(aChild), 'waiting');
  a.cancel(aChild, T0 + 401);
  b.cancel(aChild, T0 + 401);
  assert.deepEqual(a.pendingRemoteParents(), []);

  const all = [...aIds, ...bIds, aChild];
  assert.deepEqual(observed(a, all), observed(b, all));
  assert.deepEqual(changedIds(a.takeChanges()), changedIds(b.takeChanges()));
  // and they stay equal from here on: the same worker goes, time passes
  assert.equal(a.releaseOwner(OWNER, T0 + 500), b.releaseOwner(OWNER, T0 + 500));
  a.tick(T0 + 120_000);
  b.tick(T0 + 120_000);
  assert.deepEqual(observed(a, all), observed(b, all));
  assert.deepEqual(changedIds(a.takeChanges()), changedIds(b.takeChanges()));
});

test('a dropped partition leaves nothing behind: jobs, queues, crons, timers, leases, keys', () => {
  const { input, ids } = storedPartitionB();
  const a = clusterEngine();
  a.adoptPartitions([PB], input, T0 + 10);
  a.pull(qb, 5, T0 + 11, OWNER);
  const before = a.footprint();
  assert.ok(before.jobs === ids.length && before.queues === 2 && before.crons === 1 && before.timers > 0 && before.leases > 0);
  a.dropPartitions([PB]);
  assert.deepEqual(a.footprint(), { partitions: 0, jobs: 0, queues: 0, crons: 0, retained: 0, timers: 0, leases: 0, remoteWaits: 0 });
  assert.deepEqual(a.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 0 });
  assert.equal(a.nextDue(), Infinity);
  // nothing of it is written any more, and taking it again starts from the stored rows
  assert.deepEqual(changedIds(a.takeChanges()), changedIds(clusterEngine().takeChanges()));
  a.adoptPartitions([PB], input, T0 + 20);
  assert.equal(a.footprint().jobs, ids.length);
  // its unique key came back with it
  assert.throws(() => push(a, qb, { uniqueKey: 'k1' }, T0 + 21), /Duplicate job: key k1/);
});

test('a partition adopted into a live engine equals a fresh restore of the same rows', () => {
  const { input, ids } = storedPartitionB();
  const live = clusterEngine();
  live.adoptPartitions([PA], EMPTY, T0);
  workOnA(live, T0 + 1);
  live.takeChanges();
  const now = T0 + 10;
  live.adoptPartitions([PB], input, now);
  const fresh = engine({ owns: (p) => p === PB, persist: true });
  fresh.restore(input, now);

  const ofB = (e: Engine) => ({
    byId: ids.map((id) => {
      const v = e.getJob(id);
      return v === null ? null : snapshotJob(v);
    }),
    queues: e.listQueues().filter((q) => partitionOf(q.name) === PB),
    jobs: e.listJobs({}, 1000, 0).filter((j) => partitionOfId(j.id) === PB).map(snapshotJob),
    dlq: e.dlq(qb2, 100).map((j) => j.id),
    crons: e.cronList(),
    // what restoring decided (the lease lost with the old owner failed back…), for PB only
    changes: changedIds(e.takeChanges(), PB),
  });
  assert.deepEqual(ofB(live), ofB(fresh));
  assert.equal(live.getState(ids[5]!), 'waiting', 'the lease held when the partition moved is failed back');
  assert.equal(live.getJob(ids[5]!)?.attempts, 1);
  // the same deliveries, in the same order, and the same next push id
  live.resume(qb2);
  fresh.resume(qb2);
  assert.deepEqual(
    live.pull(qb, 10, now + 1, 3).map((j) => j.id),
    fresh.pull(qb, 10, now + 1, 3).map((j) => j.id),
  );
  assert.deepEqual(
    live.pull(qb2, 10, now + 1, 3).map((j) => j.id),
    fresh.pull(qb2, 10, now + 1, 3).map((j) => j.id),
  );
  assert.equal(push(live, qb, {}, now + 2), push(fresh, qb, {}, now + 2));
  // and the cron fires in both at the same time
  assert.equal(live.nextDue() <= fresh.nextDue(), true);
  live.tick(T0 + 30_000);
  fresh.tick(T0 + 30_000);
  assert.deepEqual(ofB(live), ofB(fresh));
});

test('a local child of a dropped parent and a dropped child of a local parent', () => {
  const a = clusterEngine();
  a.adoptPartitions([PA, PB], EMPTY, T0);
  const parentB = push(a, qb, {}, T0);
  const childA = push(a, qa, { dependsOn: [parentB] }, T0);
  const parentA = push(a, qa, {}, T0);
  const childB = push(a, qb, { dependsOn: [parentA] }, T0);
  a.dropPartitions([PB]);
  assert.equal(a.getState(childA), 'waiting-children');
  assert.equal(a.getState(childB), 'unknown');
  assert.deepEqual(a.pendingRemoteParents(), [{ parentId: parentB, partition: PB, watcher: PA }]);
  // the local parent completes: its dropped child is skipped, nothing is notified for it
  const [pulled] = a.pull(qa, 1, T0 + 1, OWNER);
  assert.equal(pulled?.id, parentA);
  a.ack(parentA, null, T0 + 2);
  assert.deepEqual(a.takeEffects().dependencies, []);
  // the new owner's notice releases the local child
  a.parentResolved(parentB, 'completed', T0 + 3);
  assert.equal(a.getState(childA), 'waiting');
});

test('adopting refuses a partition already held, and dropping skips one not held', () => {
  const a = clusterEngine();
  a.adoptPartitions([PA], EMPTY, T0);
  assert.throws(() => a.adoptPartitions([PA], EMPTY, T0), /partition \d+ is already held/);
  assert.equal(a.dropPartitions([PB]), 0);
  assert.deepEqual(a.heldPartitions(), [PA]);
  // requests for a partition not held behave as before: its jobs are unknown
  assert.equal(a.getJob(1 * 256 + PB), null);
});

test('returning leases before a move: active jobs wait again, no attempt spent, and the next owner serves them first', () => {
  const a = engine({ owns: (p) => p === PA || p === PB, persist: true });
  const store = new FakeStore();
  const first = push(a, qa, { data: '"first"', timeout: 1000 });
  const second = push(a, qa, { data: '"second"' });
  const third = push(a, qa, { data: '"third"' });
  const other = push(a, qb, { data: '"other"' });
  const pulled = a.pull(qa, 2, T0 + 1, OWNER).map((j) => j.id);
  assert.deepEqual(pulled, [first, second]);
  assert.equal(a.pull(qb, 1, T0 + 1, OWNER)[0]!.id, other);
  store.apply(a.takeChanges());

  assert.equal(a.returnLeases([PA]), 2);
  for (const id of [first, second]) {
    const v = snapshotJob(a.getJob(id)!);
    assert.deepEqual([v.state, v.attempts], ['waiting', 0], `job ${id}`);
  }
  assert.equal(a.getState(other), 'active', "the other partition's lease stays");
  assert.deepEqual([a.stats().queued, a.stats().processing], [3, 1]);
  assert.throws(() => a.ack(first, null, T0 + 2), /not found|not active/i, "the worker's ACK is refused");
  const ch = a.takeChanges();
  assert.deepEqual(changedIds(ch, PA).updated, [first, second].sort());
  store.apply(ch);

  // the next owner loads the partition: the returned jobs wait (none failed back), first in line
  const b = clusterEngine();
  b.adoptPartitions([PA], store.input(), T0 + 3);
  assert.deepEqual(changedIds(b.takeChanges(), PA).updated, [], 'nothing failed back');
  const again = b.pull(qa, 3, T0 + 4, 9);
  assert.deepEqual(again.map((j) => j.id), [first, second, third]);
  assert.deepEqual(again.map((j) => j.attempts), [1, 1, 1]);
  assert.equal(b.stats().dlq, 0);
});
