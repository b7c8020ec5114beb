import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, engine, push, throwsFlashq } from './helpers.js';

test('cancel removes waiting, delayed and waiting-children jobs (then unknown)', () => {
  const e = engine();
  const waiting = push(e, 'q');
  const delayed = push(e, 'q', { delay: 100 });
  const parent = push(e, 'q', { delay: 100 });
  const child = push(e, 'q', { dependsOn: [parent] });
  for (const id of [waiting, delayed, child]) {
    e.cancel(id, T0);
    assert.equal(e.getState(id), 'unknown');
    assert.equal(e.getJob(id), null);
  }
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 1, dlq: 0 });
  e.tick(T0 + 100);
  assert.deepEqual(e.pull('q', 10, T0 + 100, 1).map((j) => j.id), [parent]);
});

test('cancel answers by state: active, finished, unknown', () => {
  const e = engine();
  const a = push(e, 'q');
  e.pull('q', 1, T0, 1);
  throwsFlashq(() => e.cancel(a, T0), `Job ${a} is active and cannot be cancelled`);
  e.ack(a, null, T0);
  throwsFlashq(() => e.cancel(a, T0), `Job ${a} not found (already completed/failed)`);
  const f = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.fail(f, 'x', T0);
  throwsFlashq(() => e.cancel(f, T0), `Job ${f} not found (already completed/failed)`);
  throwsFlashq(() => e.cancel(77, T0), 'Job 77 not found');
});

test('progress: only for active jobs, integer clamped to 0..100, with an optional message', () => {
  const e = engine();
  e.setEventsEnabled(true);
  const id = push(e, 'q');
  throwsFlashq(() => e.progress(id, 10, null, T0), `Job ${id} not found in processing`);
  e.pull('q', 1, T0, 1);
  e.takeEffects();
  e.progress(id, 42.7, 'step 2', T0 + 1);
  assert.deepEqual(e.getProgress(id), { progress: 42, message: 'step 2' });
  e.progress(id, 150, null, T0 + 2);
  assert.deepEqual(e.getProgress(id), { progress: 100, message: null });
  e.progress(id, -3, 'x', T0 + 3);
  assert.equal(e.getJob(id)!.progress, 0);
  assert.equal(e.getJob(id)!.progressMsg, 'x');
  const events = e.takeEffects().events;
  assert.deepEqual(
    events.map((ev) => [ev.type, ev.jobId, ev.progress, ev.data, ev.timestamp]),
    [
      ['job.progress', id, 42, '"step 2"', T0 + 1],
      ['job.progress', id, 100, null, T0 + 2],
      ['job.progress', id, 0, '"x"', T0 + 3],
    ],
  );
  throwsFlashq(() => e.getProgress(99), 'Job 99 not found');
  throwsFlashq(() => e.progress(99, 1, null, T0), 'Job 99 not found in processing');
});

test('ack stores the result; getResult is null without one and throws for unknown ids', () => {
  const e = engine();
  const a = push(e, 'q');
  const b = push(e, 'q');
  e.pull('q', 2, T0, 1);
  e.ack(a, '{"sent":true}', T0 + 3);
  e.ack(b, null, T0 + 4);
  assert.equal(e.getResult(a), '{"sent":true}');
  assert.equal(e.getJob(a)!.result, '{"sent":true}');
  assert.equal(e.getJob(a)!.finishedAt, T0 + 3);
  assert.equal(e.getJob(a)!.startedAt, 0);
  assert.equal(e.getResult(b), null);
  assert.equal(e.getResult(push(e, 'q')), null);
  throwsFlashq(() => e.getResult(12345), 'Job 12345 not found');
});

test('retention keeps the newest keepCompleted finished jobs, completed and failed together', () => {
  const e = engine({ keepCompleted: 3 });
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push(push(e, 'q', { data: String(i) }));
  e.pull('q', 5, T0, 1);
  e.ack(ids[0]!, null, T0 + 1);
  e.fail(ids[1]!, 'x', T0 + 2);
  e.ack(ids[2]!, null, T0 + 3);
  assert.equal(e.stats().dlq, 1);
  e.ack(ids[3]!, null, T0 + 4); // evicts ids[0]
  assert.equal(e.getState(ids[0]!), 'unknown');
  throwsFlashq(() => e.getResult(ids[0]!), `Job ${ids[0]} not found`);
  e.ack(ids[4]!, null, T0 + 5); // evicts the failed ids[1]: it leaves the DLQ
  assert.deepEqual(
    ids.map((id) => e.getState(id)),
    ['unknown', 'unknown', 'completed', 'completed', 'completed'],
  );
  assert.deepEqual(e.dlq('q', 10), []);
  assert.equal(e.stats().dlq, 0);
  assert.equal(e.listQueues()[0]!.dlq, 0);
});

test('keepCompleted 0 forgets jobs as soon as they finish', () => {
  const e = engine({ keepCompleted: 0 });
  const id = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.ack(id, '1', T0);
  assert.equal(e.getState(id), 'unknown');
  assert.equal(e.counters().totalCompleted, 1);
});

test('the DLQ lists failed jobs oldest first, up to count; retry of one id or all', () => {
  const e = engine();
  const ids = [push(e, 'q'), push(e, 'q'), push(e, 'q')];
  e.pull('q', 3, T0, 1);
  e.fail(ids[2]!, 'c', T0 + 1);
  e.fail(ids[0]!, 'a', T0 + 2);
  e.fail(ids[1]!, 'b', T0 + 3);
  assert.deepEqual(e.dlq('q', 2).map((j) => j.error), ['c', 'a']);
  assert.deepEqual(e.dlq('q', 100).length, 3);
  assert.deepEqual(e.dlq('nobody', 100), []);
  assert.equal(e.retryDlq('q', ids[0]!, T0 + 10), 1);
  assert.equal(e.retryDlq('q', ids[0]!, T0 + 10), 0); // no longer in the DLQ
  assert.equal(e.retryDlq('other', ids[1]!, T0 + 10), 0);
  assert.equal(e.retryDlq('q', null, T0 + 11), 2);
  assert.deepEqual(e.stats(), { queued: 3, processing: 0, delayed: 0, dlq: 0 });
  assert.deepEqual(e.pull('q', 10, T0 + 12, 1).map((j) => j.attempts), [1, 1, 1]);
});

test('listJobs: newest first, filtered by queue and state, with offset and limit', () => {
  const e = engine();
  const a = push(e, 'q', {}, T0);
  const b = push(e, 'q', { delay: 50 }, T0 + 1);
  const c = push(e, 'other', {}, T0 + 2);
  const d = push(e, 'q', {}, T0 + 2);
  e.pull('q', 1, T0 + 3, 1);
  e.ack(a, null, T0 + 3);
  // c and d were created in the same millisecond: the higher id first
  assert.deepEqual(e.listJobs({}, 10, 0).map((j) => j.id), [Math.max(c, d), Math.min(c, d), b, a]);
  assert.deepEqual(e.listJobs({ queue: 'q' }, 10, 0).map((j) => j.id), [d, b, a]);
  assert.deepEqual(e.listJobs({ queue: 'q', state: 'delayed' }, 10, 0).map((j) => j.id), [b]);
  assert.deepEqual(e.listJobs({ state: 'completed' }, 10, 0).map((j) => j.id), [a]);
  assert.deepEqual(e.listJobs({ queue: 'q' }, 1, 1).map((j) => j.id), [b]);
  assert.deepEqual(e.listJobs({ queue: 'nobody' }, 10, 0), []);
  assert.deepEqual(e.listJobs({}, 0, 0), []);
});
