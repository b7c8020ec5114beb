import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, drain, engine, job, push } from './helpers.js';
import { snapshotJob } from '../../src/engine/job.js';

test('equal priorities are delivered in push order (FIFO)', () => {
  const e = engine();
  for (const d of ['1', '2', '3']) push(e, 'q', { data: d });
  e.push('q', [job({ data: '4' }), job({ data: '5' })], T0);
  assert.deepEqual(drain(e, 'q'), ['1', '2', '3', '4', '5']);
});

test('a higher priority is delivered first, whatever the push order', () => {
  const e = engine();
  push(e, 'q', { data: '"low"', priority: 1 });
  push(e, 'q', { data: '"neg"', priority: -5 });
  push(e, 'q', { data: '"high"', priority: 10 });
  push(e, 'q', { data: '"low2"', priority: 1 });
  assert.deepEqual(drain(e, 'q'), ['"high"', '"low"', '"low2"', '"neg"']);
});

test('a lifo job goes ahead of the non-lifo jobs of its priority, newest lifo first', () => {
  const e = engine();
  push(e, 'q', { data: 'f1' });
  push(e, 'q', { data: 'l1', lifo: true });
  push(e, 'q', { data: 'f2' });
  push(e, 'q', { data: 'l2', lifo: true });
  push(e, 'q', { data: 'hi', priority: 1 });
  push(e, 'q', { data: 'lo-lifo', priority: -1, lifo: true });
  assert.deepEqual(drain(e, 'q'), ['hi', 'l2', 'l1', 'f1', 'f2', 'lo-lifo']);
});

test('a delayed high-priority job does not block a ready low-priority one', () => {
  const e = engine();
  push(e, 'q', { data: 'delayed-high', priority: 100, delay: 5000 });
  push(e, 'q', { data: 'ready-low', priority: 0 });
  assert.deepEqual(drain(e, 'q', T0 + 1), ['ready-low']);
  assert.deepEqual(drain(e, 'q', T0 + 4999), []);
  assert.deepEqual(drain(e, 'q', T0 + 5000), ['delayed-high']);
});

test('a delayed job is in state delayed until its run time, then waiting', () => {
  const e = engine();
  const id = push(e, 'q', { delay: 1000 });
  assert.equal(e.getState(id), 'delayed');
  assert.equal(e.getJob(id)!.runAt, T0 + 1000);
  e.tick(T0 + 999);
  assert.equal(e.getState(id), 'delayed');
  e.tick(T0 + 1000);
  assert.equal(e.getState(id), 'waiting');
});

test('delayed jobs with the same run time become ready in push order, then priority applies', () => {
  const e = engine();
  e.push('q', [job({ data: 'a', delay: 100 }), job({ data: 'b', delay: 100 }), job({ data: 'c', delay: 100, priority: 2 })], T0);
  push(e, 'q', { data: 'd', delay: 50 });
  e.tick(T0 + 100);
  assert.deepEqual(drain(e, 'q', T0 + 100), ['c', 'd', 'a', 'b']);
});

test('pull delivers due delayed jobs even before tick runs', () => {
  const e = engine();
  push(e, 'q', { data: 'x', delay: 10 });
  assert.deepEqual(drain(e, 'q', T0 + 10), ['x']);
});

test('pull takes at most count jobs and marks them active with attempts, start time and owner', () => {
  const e = engine();
  for (let i = 0; i < 5; i++) push(e, 'q', { data: String(i) });
  const got = e.pull('q', 2, T0 + 7, 42);
  assert.deepEqual(
    got.map((j) => [j.data, j.state, j.attempts, j.startedAt, j.owner]),
    [
      ['0', 'active', 1, T0 + 7, 42],
      ['1', 'active', 1, T0 + 7, 42],
    ],
  );
  assert.equal(e.stats().queued, 3);
  assert.equal(e.stats().processing, 2);
});

test('pull from an unknown queue delivers nothing and creates nothing', () => {
  const e = engine();
  assert.deepEqual(e.pull('nobody', 10, T0, 1), []);
  assert.deepEqual(e.listQueues(), []);
});

test('a retried job re-enters the ready order when its back-off expires, as a new arrival', () => {
  const e = engine();
  const id = push(e, 'q', { data: 'retry', maxAttempts: 2, backoff: 100 });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'boom', T0 + 10);
  push(e, 'q', { data: 'later' }, T0 + 20);
  e.tick(T0 + 110);
  push(e, 'q', { data: 'after' }, T0 + 120);
  assert.deepEqual(drain(e, 'q', T0 + 130), ['later', 'retry', 'after']);
});

test('the job view carries every pushed option', () => {
  const e = engine();
  const [v] = e.push(
    'q',
    [job({ data: '{"a":1}', priority: 3, delay: 50, ttl: 9000, timeout: 700, maxAttempts: 4, backoff: 20, uniqueKey: 'k', tags: ['t1', 't2'], lifo: true })],
    T0,
  );
  assert.deepEqual(
    { ...pick(v!) },
    {
      queue: 'q',
      data: '{"a":1}',
      priority: 3,
      createdAt: T0,
      runAt: T0 + 50,
      startedAt: 0,
      attempts: 0,
      maxAttempts: 4,
      backoff: 20,
      ttl: 9000,
      timeout: 700,
      uniqueKey: 'k',
      dependsOn: [],
      progress: 0,
      progressMsg: null,
      tags: ['t1', 't2'],
      lifo: true,
      state: 'delayed',
      result: null,
      error: null,
      finishedAt: 0,
      owner: 0,
    },
  );
});

/** Every field of a view but its id (which depends on the sequence). */
function pick(v: import('../../src/engine/types.js').JobView) {
  const { id: _id, ...rest } = snapshotJob(v);
  return rest;
}

test('views are live; snapshotJob keeps a copy', async () => {
  const { snapshotJob } = await import('../../src/engine/job.js');
  const e = engine();
  const [v] = e.push('q', [job()], T0);
  const copy = snapshotJob(v!);
  e.pull('q', 1, T0 + 5, 3);
  assert.equal(v!.state, 'active');
  assert.equal(v!.startedAt, T0 + 5);
  assert.equal(copy.state, 'waiting');
  assert.ok(Object.isFrozen(copy));
});
