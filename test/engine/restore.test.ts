import { JobRows } from '../../src/engine/job-rows.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import type { RestoredJob } from '../../src/engine/api.js';
import { snapshotJob } from '../../src/engine/job.js';
import { partitionOf } from '../../src/engine/partition.js';
import { FakeStore } from './fake-store.js';
import { T0, engine, job, push, throwsFlashq } from './helpers.js';

/** Everything an observer can ask, for comparing two engines. */
function answers(e: Engine, ids: number[]) {
  return {
    jobs: ids.map((id) => {
      const v = e.getJob(id);
      return v === null ? null : snapshotJob(v);
    }),
    queues: e.listQueues(),
    stats: e.stats(),
    dlq: e.dlq('q', 100).map((j) => j.id),
    crons: e.cronList(),
    browse: e.listJobs({}, 100, 0).map((j) => j.id),
  };
}

/** A state with a bit of everything, none of it active. */
function build(e: Engine, store: FakeStore): number[] {
  const ids: number[] = [];
  const add = (id: number) => (ids.push(id), id);
  add(push(e, 'q', { data: '"f1"' }));
  add(push(e, 'q', { data: '"hi"', priority: 5 }));
  add(push(e, 'q', { data: '"l1"', lifo: true }));
  add(push(e, 'q', { data: '"f2"', tags: ['a'], uniqueKey: 'u1' }));
  add(push(e, 'q', { data: '"later"', delay: 60_000, ttl: 120_000 }));
  const parent = add(push(e, 'other', { data: '"parent"' }));
  add(push(e, 'q', { data: '"child"', dependsOn: [parent], uniqueKey: 'u2' }));
  const done = add(push(e, 'done', { data: '"d"' }));
  const dead = add(push(e, 'q', { data: '"dead"', uniqueKey: 'u3' }));
  e.pull('done', 1, T0 + 1, 1);
  e.ack(done, '{"r":1}', T0 + 2);
  const retried = add(push(e, 'q', { data: '"retry"', priority: 9, maxAttempts: 3, backoff: 500 }));
  e.pull('q', 1, T0 + 3, 1);
  e.fail(retried, 'flaky', T0 + 3);
  e.cancel(dead, T0 + 3);
  const dlqJob = add(push(e, 'q', { data: '"dlq"', priority: 100, uniqueKey: 'u4' }));
  e.pull('q', 1, T0 + 4, 1);
  e.fail(dlqJob, 'fatal', T0 + 4);
  e.pause('paused');
  e.setRateLimit('q', 50, T0);
  e.setConcurrency('q', 7);
  e.cronUpsert('every-hour', 'q', '0 0 * * * *', '{"c":1}', 2, T0);
  store.apply(e.takeChanges());
  return ids;
}

test('restore round trip: a fresh engine answers exactly like the one that wrote the store', () => {
  const store = new FakeStore();
  const a = engine({ persist: true });
  const ids = build(a, store);
  const b = engine({ persist: true });
  b.restore(store.input(), T0 + 10);
  assert.deepEqual(b.takeChanges().updated, [], 'loading alone changes nothing');
  assert.deepEqual(answers(b, ids), answers(a, ids));
  // and they keep agreeing as time goes on and work is done
  for (const e of [a, b]) {
    e.tick(T0 + 60_000);
    e.resume('q');
  }
  assert.deepEqual(answers(b, ids), answers(a, ids));
  const order = (e: Engine) => e.pull('q', 100, T0 + 60_000, 1).map((j) => j.data);
  assert.deepEqual(order(b), order(a));
});

test('restored unique keys, sequences and dependency links keep working', () => {
  const store = new FakeStore();
  const a = engine({ persist: true });
  const ids = build(a, store);
  const b = engine({ persist: true });
  b.restore(store.input(), T0 + 10);
  throwsFlashq(() => push(b, 'q', { uniqueKey: 'u1' }), 'Duplicate job: key u1');
  throwsFlashq(() => push(b, 'q', { uniqueKey: 'u2' }), 'Duplicate job: key u2');
  throwsFlashq(() => push(b, 'q', { uniqueKey: 'u4' }), 'Duplicate job: key u4');
  push(b, 'q', { uniqueKey: 'u3' }); // released by the cancel
  const fresh = push(b, 'q');
  assert.ok(!ids.includes(fresh));
  assert.ok(fresh > Math.max(...ids.filter((id) => id % 256 === partitionOf('q'))));
  const parent = ids[5]!;
  const child = ids[6]!;
  assert.equal(b.getState(child), 'waiting-children');
  b.pull('other', 1, T0 + 20, 1);
  b.ack(parent, null, T0 + 21);
  assert.equal(b.getState(child), 'waiting');
});

test('jobs stored as active count as a lost lease: retried or failed with "worker connection lost"', () => {
  const store = new FakeStore();
  const a = engine({ persist: true });
  const retry = push(a, 'q', { maxAttempts: 2, backoff: 1000 });
  const last = push(a, 'q');
  const child = push(a, 'q', { dependsOn: [last] });
  a.pull('q', 2, T0 + 5, 1);
  store.apply(a.takeChanges());
  const b = engine({ persist: true });
  b.restore(store.input(), T0 + 100);
  assert.deepEqual(
    [b.getState(retry), b.getJob(retry)!.error, b.getJob(retry)!.runAt, b.getJob(retry)!.attempts],
    ['delayed', 'worker connection lost', T0 + 1100, 1],
  );
  assert.deepEqual([b.getState(last), b.getJob(last)!.error], ['failed', 'worker connection lost']);
  assert.deepEqual([b.getState(child), b.getJob(child)!.error], ['failed', `Dependency ${last} failed`]);
  assert.deepEqual(b.stats(), { queued: 0, processing: 0, delayed: 1, dlq: 2 });
  const ch = b.takeChanges();
  assert.deepEqual(new Set(ch.updated.map((v) => v.id)), new Set([retry, last, child]));
});

test('a cron missed while down fires once on the first tick', () => {
  const b = engine();
  b.restore({ jobs: new JobRows(), queues: [], crons: [{ name: 'c', queue: 'q', schedule: '0 * * * * *', data: '{}', priority: 0, nextRun: T0 + 60_000 }], seqs: [] }, T0 + 3600_000);
  assert.equal(b.nextDue(), T0 + 60_000);
  b.tick(T0 + 3600_000);
  assert.equal(b.stats().queued, 1);
  assert.equal(b.cronList()[0]!.nextRun, T0 + 3660_000);
});

test('restored waiting jobs keep their order; remote parents are listed for re-watching', () => {
  const p = partitionOf('q');
  const jobs: RestoredJob[] = [];
  const base = { queue: 'q', createdAt: T0, startedAt: 0, attempts: 0, progress: 0, progressMsg: null, result: null, error: null, finishedAt: 0 };
  const mk = (seq: number, data: string, runAt: number, extra: Partial<RestoredJob> = {}): RestoredJob => ({
    ...job({ data }),
    ...base,
    id: seq * 256 + p,
    state: 'waiting',
    runAt,
    ...extra,
  });
  jobs.push(mk(3, 'c', T0 + 5), mk(1, 'a', T0), mk(2, 'b', T0), mk(4, 'lifo', T0, { lifo: true }));
  const remoteParent = 10 * 256 + ((p + 1) % 256);
  jobs.push(mk(5, 'child', T0, { state: 'waiting-children', dependsOn: [remoteParent] }));
  const b = engine({ owns: (x) => x === p });
  b.restore({ jobs: JobRows.of(jobs), queues: [], crons: [], seqs: [{ partition: p, seq: 9 }] }, T0 + 10);
  assert.deepEqual(b.pendingRemoteParents(), [{ parentId: remoteParent, partition: (p + 1) % 256, watcher: p }]);
  assert.deepEqual(
    b.pull('q', 10, T0 + 10, 1).map((j) => j.data),
    ['lifo', 'a', 'b', 'c'],
  );
  assert.equal(push(b, 'q'), 10 * 256 + p);
  b.parentResolved(remoteParent, 'completed', T0 + 11);
  assert.equal(b.getState(5 * 256 + p), 'waiting');
  assert.deepEqual(b.pendingRemoteParents(), []);
});

test('restore trims retention to keepCompleted, oldest first', () => {
  const p = partitionOf('q');
  const done = (seq: number, finishedAt: number): RestoredJob => ({
    ...job(),
    id: seq * 256 + p,
    queue: 'q',
    state: 'completed',
    createdAt: T0,
    runAt: T0,
    startedAt: 0,
    attempts: 1,
    progress: 0,
    progressMsg: null,
    result: null,
    error: null,
    finishedAt,
  });
  const b = engine({ keepCompleted: 2, persist: true });
  b.restore({ jobs: JobRows.of([done(1, T0 + 3), done(2, T0 + 1), done(3, T0 + 2)]), queues: [], crons: [], seqs: [] }, T0 + 10);
  assert.deepEqual(
    [1, 2, 3].map((s) => b.getState(s * 256 + p)),
    ['completed', 'unknown', 'completed'],
  );
  assert.deepEqual(b.takeChanges().deleted, [2 * 256 + p]);
});

test('an active job restored with a ttl is retried and still expires on time', () => {
  const store = new FakeStore();
  const a = engine({ persist: true });
  const id = push(a, 'q', { ttl: 5000, maxAttempts: 3, backoff: 10_000 });
  a.pull('q', 1, T0 + 1, 1);
  store.apply(a.takeChanges());
  const b = engine();
  b.restore(store.input(), T0 + 100);
  assert.equal(b.getState(id), 'delayed');
  assert.equal(b.nextDue(), T0 + 5000);
  b.tick(T0 + 5000);
  assert.deepEqual([b.getState(id), b.getJob(id)!.error], ['failed', 'TTL expired']);
});

test('a stored job whose id does not belong to its queue partition is refused loudly', () => {
  const p = partitionOf('q');
  const wrong = 5 * 256 + ((p + 1) % 256);
  const bad: RestoredJob = {
    ...job(),
    id: wrong,
    queue: 'q',
    state: 'waiting',
    createdAt: T0,
    runAt: T0,
    startedAt: 0,
    attempts: 0,
    progress: 0,
    progressMsg: null,
    result: null,
    error: null,
    finishedAt: 0,
  };
  throwsFlashq(() => engine().restore({ jobs: JobRows.of([bad]), queues: [], crons: [], seqs: [] }, T0), `Internal error: stored job ${wrong} of queue q is in the wrong partition`);
});
