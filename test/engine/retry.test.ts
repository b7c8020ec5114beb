import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, drain, engine, push, throwsFlashq } from './helpers.js';

test('a failed job with attempts left is delayed by backoff × 2^(attempts−1), exactly', () => {
  const e = engine();
  const id = push(e, 'q', { maxAttempts: 4, backoff: 1000 });
  let now = T0;
  for (const wait of [1000, 2000, 4000]) {
    assert.equal(e.pull('q', 1, now, 1).length, 1);
    e.fail(id, 'nope', now + 5);
    const v = e.getJob(id)!;
    assert.equal(v.state, 'delayed');
    assert.equal(v.runAt, now + 5 + wait);
    assert.equal(v.error, 'nope');
    assert.deepEqual(e.pull('q', 1, now + 5 + wait - 1, 1), [], 'not before its back-off');
    now = now + 5 + wait;
  }
  assert.equal(e.pull('q', 1, now, 1)[0]!.attempts, 4);
});

test('the back-off exponent is capped at 10', () => {
  const e = engine();
  const id = push(e, 'q', { maxAttempts: 20, backoff: 1 });
  let now = T0;
  for (let attempt = 1; attempt <= 13; attempt++) {
    e.pull('q', 1, now, 1);
    e.fail(id, null, now);
    const wait = e.getJob(id)!.runAt - now;
    assert.equal(wait, 2 ** Math.min(attempt - 1, 10), `attempt ${attempt}`);
    now += wait;
  }
});

test('a zero back-off retries at once, behind jobs already waiting', () => {
  const e = engine();
  const id = push(e, 'q', { data: 'a', maxAttempts: 2, backoff: 0 });
  push(e, 'q', { data: 'b' });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'x', T0);
  assert.equal(e.getState(id), 'waiting');
  assert.deepEqual(drain(e, 'q'), ['b', 'a']);
});

test('retries exhaust into the DLQ with the last error, counted once as failed', () => {
  const e = engine();
  const id = push(e, 'q', { maxAttempts: 2, backoff: 10 });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'first', T0);
  e.pull('q', 1, T0 + 10, 1);
  e.fail(id, 'second', T0 + 20);
  const v = e.getJob(id)!;
  assert.equal(v.state, 'failed');
  assert.equal(v.error, 'second');
  assert.equal(v.attempts, 2);
  assert.equal(v.finishedAt, T0 + 20);
  assert.equal(e.counters().totalFailed, 1);
  assert.deepEqual(
    e.dlq('q', 10).map((j) => j.id),
    [id],
  );
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 1 });
  assert.deepEqual(e.pull('q', 1, T0 + 100_000, 1), []);
});

test('with the default max_attempts of 1 the first failure goes to the DLQ', () => {
  const e = engine();
  const id = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.fail(id, 'bad', T0);
  assert.equal(e.getState(id), 'failed');
});

test('every failure emits job.failed with its error, retried or final', () => {
  const e = engine();
  e.setEventsEnabled(true);
  const id = push(e, 'q', { maxAttempts: 2, backoff: 1 });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'one', T0);
  e.pull('q', 1, T0 + 1, 1);
  e.fail(id, 'two', T0 + 1);
  const failed = e.takeEffects().events.filter((ev) => ev.type === 'job.failed');
  assert.deepEqual(
    failed.map((ev) => [ev.jobId, ev.error, ev.queue]),
    [
      [id, 'one', 'q'],
      [id, 'two', 'q'],
    ],
  );
});

test('ack and fail of a job that is not active answer "Job N not found"', () => {
  const e = engine();
  const id = push(e, 'q');
  throwsFlashq(() => e.ack(id, null, T0), `Job ${id} not found`);
  throwsFlashq(() => e.fail(id, 'x', T0), `Job ${id} not found`);
  throwsFlashq(() => e.ack(999_999, null, T0), 'Job 999999 not found');
  e.pull('q', 1, T0, 1);
  e.ack(id, null, T0);
  throwsFlashq(() => e.ack(id, null, T0), `Job ${id} not found`);
  throwsFlashq(() => e.fail(id, null, T0), `Job ${id} not found`);
});

test('an active job older than its timeout fails with "Job timed out"; a late ack is not found', () => {
  const e = engine();
  const id = push(e, 'q', { timeout: 500, maxAttempts: 2, backoff: 100 });
  e.pull('q', 1, T0, 1);
  assert.equal(e.nextDue(), T0 + 500);
  e.tick(T0 + 499);
  assert.equal(e.getState(id), 'active');
  e.tick(T0 + 500);
  const v = e.getJob(id)!;
  assert.equal(v.state, 'delayed');
  assert.equal(v.error, 'Job timed out');
  assert.equal(v.runAt, T0 + 600);
  throwsFlashq(() => e.ack(id, null, T0 + 501), `Job ${id} not found`);
  // second delivery times out too: attempts spent, DLQ
  e.pull('q', 1, T0 + 600, 1);
  e.tick(T0 + 1100);
  assert.equal(e.getState(id), 'failed');
  assert.equal(e.getJob(id)!.error, 'Job timed out');
  throwsFlashq(() => e.fail(id, null, T0 + 1200), `Job ${id} not found`);
});

test('an acked job with a timeout does not time out later', () => {
  const e = engine();
  const id = push(e, 'q', { timeout: 100 });
  e.pull('q', 1, T0, 1);
  e.ack(id, null, T0 + 50);
  e.tick(T0 + 1000);
  assert.equal(e.getState(id), 'completed');
  assert.equal(e.counters().totalFailed, 0);
});

test('a timed-out job with zero back-off is ready again in the same tick', () => {
  const e = engine();
  const id = push(e, 'q', { timeout: 10, maxAttempts: 3, backoff: 0 });
  e.pull('q', 1, T0, 1);
  e.tick(T0 + 10);
  assert.equal(e.getState(id), 'waiting');
});

test('releaseOwner fails back the jobs of that owner only, with "worker connection lost"', () => {
  const e = engine();
  const a = push(e, 'q', { maxAttempts: 3, backoff: 100 });
  const b = push(e, 'q');
  const c = push(e, 'q');
  e.pull('q', 2, T0, 7);
  e.pull('q', 1, T0, 8);
  assert.equal(e.releaseOwner(7, T0 + 1), 2);
  assert.equal(e.getState(a), 'delayed');
  assert.equal(e.getJob(a)!.error, 'worker connection lost');
  assert.equal(e.getJob(a)!.runAt, T0 + 101);
  assert.equal(e.getState(b), 'failed');
  assert.equal(e.getJob(b)!.error, 'worker connection lost');
  assert.equal(e.getState(c), 'active');
  assert.equal(e.releaseOwner(7, T0 + 2), 0);
  assert.equal(e.releaseOwner(8, T0 + 2), 1);
  assert.equal(e.stats().processing, 0);
});

test('an owner keeps only its unacknowledged jobs: acked ones are not failed back', () => {
  const e = engine();
  const ids = [push(e, 'q'), push(e, 'q'), push(e, 'q')];
  e.pull('q', 3, T0, 5);
  e.ack(ids[1]!, null, T0);
  assert.equal(e.releaseOwner(5, T0), 2);
  assert.deepEqual(
    ids.map((id) => e.getState(id)),
    ['failed', 'completed', 'failed'],
  );
});

test('ackBatch completes the active jobs among the ids and skips the rest', () => {
  const e = engine();
  const a = push(e, 'q');
  const b = push(e, 'q');
  const waiting = push(e, 'q');
  e.pull('q', 2, T0, 1);
  assert.equal(e.ackBatch([a, b, waiting, 123456], T0 + 5), 2);
  assert.equal(e.getState(a), 'completed');
  assert.equal(e.getState(waiting), 'waiting');
  assert.equal(e.counters().totalCompleted, 2);
  assert.equal(e.counters().latencySumMs, 10);
});
