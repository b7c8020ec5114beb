import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { partitionOf, partitionOfId } from '../../src/engine/partition.js';
import type { DependencyNotice, JobInput, ParentStatus } from '../../src/engine/types.js';
import { T0, engine, job, push, throwsFlashq } from './helpers.js';

function complete(e: Engine, queue: string, id: number, now = T0): void {
  const got = e.pull(queue, 1000, now, 1).map((j) => j.id);
  assert.ok(got.includes(id), `job ${id} should be deliverable`);
  for (const other of got) if (other !== id) e.fail(other, 'not now', now);
  e.ack(id, null, now);
}

test('a child waits in waiting-children until its parent completes, then is ready', () => {
  const e = engine();
  const parent = push(e, 'q');
  const child = push(e, 'q', { data: 'child', dependsOn: [parent] });
  assert.equal(e.getState(child), 'waiting-children');
  assert.deepEqual(e.stats(), { queued: 1, processing: 0, delayed: 1, dlq: 0 });
  assert.equal(e.listQueues()[0]!.pending, 2);
  e.pull('q', 10, T0, 1); // only the parent is deliverable
  assert.equal(e.getState(child), 'waiting-children');
  e.ack(parent, null, T0 + 1);
  assert.equal(e.getState(child), 'waiting');
  assert.deepEqual(e.takeEffects().wake, ['q']);
});

test('a child of several parents (in other queues too) waits for every one of them', () => {
  const e = engine();
  const a = push(e, 'qa');
  const b = push(e, 'qb');
  const child = push(e, 'qc', { dependsOn: [a, b, a] });
  assert.deepEqual(e.getJob(child)!.dependsOn, [a, b]);
  complete(e, 'qa', a);
  assert.equal(e.getState(child), 'waiting-children');
  complete(e, 'qb', b);
  assert.equal(e.getState(child), 'waiting');
});

test('a chain releases one link at a time', () => {
  const e = engine();
  const a = push(e, 'q');
  const b = push(e, 'q', { dependsOn: [a] });
  const c = push(e, 'q', { dependsOn: [b] });
  complete(e, 'q', a);
  assert.deepEqual([e.getState(b), e.getState(c)], ['waiting', 'waiting-children']);
  complete(e, 'q', b);
  assert.equal(e.getState(c), 'waiting');
});

test('a child whose delay has not elapsed when its parents complete becomes delayed', () => {
  const e = engine();
  const p = push(e, 'q');
  const child = push(e, 'q', { delay: 1000, dependsOn: [p] });
  complete(e, 'q', p, T0 + 10);
  assert.equal(e.getState(child), 'delayed');
  assert.equal(e.getJob(child)!.runAt, T0 + 1000);
  e.tick(T0 + 1000);
  assert.equal(e.getState(child), 'waiting');
  const late = push(e, 'q', { delay: 10, dependsOn: [push(e, 'q', {}, T0 + 2000)] }, T0 + 2000);
  complete(e, 'q', e.getJob(late)!.dependsOn[0]!, T0 + 3000);
  assert.equal(e.getState(late), 'waiting');
});

test('a parent already completed satisfies at push; a parent already in the DLQ fails the child at push', () => {
  const e = engine();
  const done = push(e, 'q');
  complete(e, 'q', done);
  assert.equal(e.getState(push(e, 'q', { dependsOn: [done] })), 'waiting');
  const bad = push(e, 'q');
  e.pull('q', 10, T0, 1);
  e.fail(bad, 'x', T0);
  const child = push(e, 'q', { dependsOn: [bad] });
  assert.equal(e.getState(child), 'failed');
  assert.equal(e.getJob(child)!.error, `Dependency ${bad} failed`);
  assert.equal(e.counters().totalPushed, 4);
});

test('an unknown parent refuses the whole batch with "Job N not found"', () => {
  const e = engine();
  const p = push(e, 'q');
  throwsFlashq(() => e.push('q', [job({ dependsOn: [p] }), job({ dependsOn: [p + 256 * 50] })], T0), `Job ${p + 256 * 50} not found`);
  throwsFlashq(() => push(e, 'q', { dependsOn: [0] }), 'Job 0 not found');
  assert.equal(e.counters().totalPushed, 1);
});

test('a parent failing into the DLQ fails its waiting children, cascading down the chain', () => {
  const e = engine();
  e.setEventsEnabled(true);
  const a = push(e, 'q');
  const b = push(e, 'q', { dependsOn: [a] });
  const c = push(e, 'other', { dependsOn: [b] });
  const d = push(e, 'q', { dependsOn: [a] });
  e.takeEffects();
  e.pull('q', 1, T0, 1);
  e.fail(a, 'root cause', T0 + 1);
  assert.deepEqual(
    [b, c, d].map((id) => [e.getState(id), e.getJob(id)!.error]),
    [
      ['failed', `Dependency ${a} failed`],
      ['failed', `Dependency ${b} failed`],
      ['failed', `Dependency ${a} failed`],
    ],
  );
  assert.equal(e.counters().totalFailed, 4);
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 4 });
  const failedEvents = e.takeEffects().events.filter((ev) => ev.type === 'job.failed').map((ev) => ev.jobId);
  assert.deepEqual(new Set(failedEvents), new Set([a, b, c, d]));
  assert.equal(failedEvents[0], a);
});

test('a parent that fails with attempts left keeps its children waiting', () => {
  const e = engine();
  const a = push(e, 'q', { maxAttempts: 2, backoff: 1 });
  const b = push(e, 'q', { dependsOn: [a] });
  e.pull('q', 1, T0, 1);
  e.fail(a, 'transient', T0);
  assert.equal(e.getState(b), 'waiting-children');
  e.pull('q', 1, T0 + 1, 1);
  e.ack(a, null, T0 + 2);
  assert.equal(e.getState(b), 'waiting');
});

test('cancelling a parent fails its children with "Dependency N failed"', () => {
  const e = engine();
  const a = push(e, 'q', { delay: 100 });
  const b = push(e, 'q', { dependsOn: [a] });
  e.cancel(a, T0);
  assert.equal(e.getState(b), 'failed');
  assert.equal(e.getJob(b)!.error, `Dependency ${a} failed`);
});

test('a ttl-expired parent fails its children', () => {
  const e = engine();
  const a = push(e, 'q', { ttl: 50, delay: 100 });
  const b = push(e, 'q', { dependsOn: [a] });
  e.tick(T0 + 50);
  assert.equal(e.getState(b), 'failed');
});

test('a cancelled child is skipped when its parent completes', () => {
  const e = engine();
  const a = push(e, 'q');
  const b = push(e, 'q', { dependsOn: [a] });
  e.cancel(b, T0);
  complete(e, 'q', a);
  assert.equal(e.getState(b), 'unknown');
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 0 });
});

test('a chain of 20,000 jobs fails as a whole without overflowing the stack', () => {
  const e = engine({ keepCompleted: 100_000 });
  const root = push(e, 'q');
  let prev = root;
  const all: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    prev = push(e, 'q', { dependsOn: [prev] });
    all.push(prev);
  }
  e.pull('q', 1, T0, 1);
  e.fail(root, 'x', T0);
  assert.equal(e.getState(all[all.length - 1]!), 'failed');
  assert.equal(e.stats().dlq, 20_001);
});

// ---- across engines ----

/** Two engines owning the even and the odd partitions, wired like two shards. */
function pairOfEngines() {
  const even = engine({ owns: (p) => p % 2 === 0 });
  const odd = engine({ owns: (p) => p % 2 === 1 });
  const byPartition = (p: number) => (p % 2 === 0 ? even : odd);
  const qEven = ['a', 'b', 'c', 'd', 'e', 'f'].find((n) => partitionOf(n) % 2 === 0)!;
  const qOdd = ['a', 'b', 'c', 'd', 'e', 'f'].find((n) => partitionOf(n) % 2 === 1)!;
  /** What a shard does for PUSH: ask the parents' owners, then push with their answers. */
  const pushWithRemote = (target: Engine, queue: string, input: JobInput, now = T0): number => {
    const statuses = new Map<number, ParentStatus>();
    for (const pid of target.remoteParentsOf([input])) statuses.set(pid, byPartition(partitionOfId(pid)).watchParent(pid, partitionOf(queue)));
    return target.push(queue, [input], now, statuses)[0]!.id;
  };
  /** Deliver the notices each engine emitted to the engine owning the watcher partition. */
  const exchange = (now = T0): DependencyNotice[] => {
    const all: DependencyNotice[] = [];
    for (let round = 0; round < 10; round++) {
      const notices = [...even.takeEffects().dependencies, ...odd.takeEffects().dependencies];
      if (notices.length === 0) break;
      for (const n of notices) byPartition(n.partition).parentResolved(n.parentId, n.outcome, now);
      all.push(...notices);
    }
    return all;
  };
  return { even, odd, qEven, qOdd, pushWithRemote, exchange };
}

test('a child waits on a parent owned by another engine and is released by its notice', () => {
  const { even, odd, qEven, qOdd, pushWithRemote, exchange } = pairOfEngines();
  const parent = push(odd, qOdd);
  const child = pushWithRemote(even, qEven, job({ dependsOn: [parent] }));
  assert.equal(even.getState(child), 'waiting-children');
  assert.deepEqual(even.pendingRemoteParents(), [{ parentId: parent, partition: partitionOfId(parent), watcher: partitionOf(qEven) }]);
  complete(odd, qOdd, parent);
  const notices = exchange();
  assert.deepEqual(notices, [{ parentId: parent, outcome: 'completed', partition: partitionOf(qEven) }]);
  assert.equal(even.getState(child), 'waiting');
  assert.deepEqual(even.pendingRemoteParents(), []);
});

test('a remote failure cascades back and forth between engines', () => {
  const { even, odd, qEven, qOdd, pushWithRemote, exchange } = pairOfEngines();
  const root = push(odd, qOdd);
  const mid = pushWithRemote(even, qEven, job({ dependsOn: [root] }));
  const leaf = pushWithRemote(odd, qOdd, job({ dependsOn: [mid] }));
  const local = push(even, qEven, { dependsOn: [mid] });
  odd.pull(qOdd, 1, T0, 1);
  odd.fail(root, 'boom', T0);
  exchange();
  assert.equal(even.getJob(mid)!.error, `Dependency ${root} failed`);
  assert.equal(even.getJob(local)!.error, `Dependency ${mid} failed`);
  assert.equal(odd.getJob(leaf)!.error, `Dependency ${mid} failed`);
});

test('remote parents already completed or failed are applied at push; unknown ones refuse it', () => {
  const { even, odd, qEven, qOdd, pushWithRemote } = pairOfEngines();
  const done = push(odd, qOdd);
  complete(odd, qOdd, done);
  assert.equal(even.getState(pushWithRemote(even, qEven, job({ dependsOn: [done] }))), 'waiting');
  const bad = push(odd, qOdd);
  odd.pull(qOdd, 1, T0, 1);
  odd.fail(bad, 'x', T0);
  assert.equal(even.getState(pushWithRemote(even, qEven, job({ dependsOn: [bad] }))), 'failed');
  const unknown = bad + 256 * 1000;
  throwsFlashq(() => pushWithRemote(even, qEven, job({ dependsOn: [unknown] })), `Job ${unknown} not found`);
  throwsFlashq(() => even.push(qEven, [job({ dependsOn: [done] })], T0), `Internal error: status of remote parent ${done} was not supplied`);
});

test('watchParent answers the status and registers each watcher partition once', () => {
  const e = engine();
  const p = push(e, 'q');
  assert.equal(e.watchParent(p, 7), 'pending');
  assert.equal(e.watchParent(p, 7), 'pending');
  assert.equal(e.watchParent(p, 9), 'pending');
  assert.equal(e.watchParent(p + 256 * 99, 7), 'unknown');
  e.cancel(p, T0);
  assert.deepEqual(e.takeEffects().dependencies, [
    { parentId: p, outcome: 'failed', partition: 7 },
    { parentId: p, outcome: 'failed', partition: 9 },
  ]);
  assert.equal(e.watchParent(p, 7), 'unknown');
});

test('a notice that arrives before the child is pushed is not lost', () => {
  const { even, odd, qEven, qOdd, exchange } = pairOfEngines();
  const parent = push(odd, qOdd);
  const status = odd.watchParent(parent, partitionOf(qEven));
  complete(odd, qOdd, parent);
  exchange(); // the notice reaches `even` before the push it was watched for
  const child = even.push(qEven, [job({ dependsOn: [parent] })], T0, new Map([[parent, status]]))[0]!.id;
  assert.equal(even.getState(child), 'waiting');
});

test('remoteParentsOf lists each parent owned elsewhere once, and no local or invalid ids', () => {
  const { even, odd, qEven, qOdd } = pairOfEngines();
  const local = push(even, qEven);
  const remote = push(odd, qOdd);
  assert.deepEqual(even.remoteParentsOf([job({ dependsOn: [local, remote] }), job({ dependsOn: [remote, -1, 2.5] })]), [remote]);
  assert.deepEqual(even.remoteParentsOf([job()]), []);
});

test('a remote parent whose only waiting child was cancelled is no longer listed as pending', () => {
  const { even, odd, qEven, qOdd, pushWithRemote } = pairOfEngines();
  const parent = push(odd, qOdd);
  const child = pushWithRemote(even, qEven, job({ dependsOn: [parent] }));
  even.cancel(child, T0);
  assert.deepEqual(even.pendingRemoteParents(), []);
  even.parentResolved(parent, 'completed', T0); // late notice: nothing to do
  assert.equal(even.getState(child), 'unknown');
});

test('parents are judged as of the push: a failed parent evicted halfway through the batch still fails the rest', () => {
  const e = engine({ keepCompleted: 1 });
  const parent = push(e, 'src');
  e.pull('src', 1, T0, 1);
  e.fail(parent, 'x', T0);
  const views = e.push('fresh', [job({ data: 'a', dependsOn: [parent] }), job({ data: 'b', dependsOn: [parent] }), job({ data: 'c' })], T0);
  assert.equal(e.getState(parent), 'unknown'); // evicted by the first doomed child
  assert.deepEqual(
    views.map((v) => v.data),
    ['a', 'b', 'c'],
  );
  assert.equal(views[1]!.state, 'failed');
  assert.equal(views[1]!.error, `Dependency ${parent} failed`);
  assert.equal(views[2]!.state, 'waiting');
  assert.equal(e.counters().totalFailed, 3);
});
