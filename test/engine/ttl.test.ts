import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, drain, engine, push } from './helpers.js';

test('an expired waiting job is never delivered: pull moves it to the DLQ with "TTL expired"', () => {
  const e = engine();
  const id = push(e, 'q', { data: 'old', ttl: 1000 });
  push(e, 'q', { data: 'fresh' }, T0 + 500);
  assert.deepEqual(drain(e, 'q', T0 + 1000), ['fresh']);
  const v = e.getJob(id)!;
  assert.equal(v.state, 'failed');
  assert.equal(v.error, 'TTL expired');
  assert.equal(v.attempts, 0);
  assert.equal(e.counters().totalFailed, 1);
  assert.equal(e.stats().dlq, 1);
});

test('tick expires ttl proactively, without retries even when attempts remain', () => {
  const e = engine();
  const id = push(e, 'q', { ttl: 1000, maxAttempts: 5 });
  assert.equal(e.nextDue(), T0 + 1000);
  e.tick(T0 + 999);
  assert.equal(e.getState(id), 'waiting');
  e.tick(T0 + 1000);
  assert.equal(e.getState(id), 'failed');
  assert.equal(e.getJob(id)!.finishedAt, T0 + 1000);
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 1 });
});

test('ttl counts from creation and also applies while delayed', () => {
  const e = engine();
  const id = push(e, 'q', { delay: 5000, ttl: 2000 });
  e.tick(T0 + 2000);
  assert.equal(e.getState(id), 'failed');
  assert.equal(e.getJob(id)!.error, 'TTL expired');
  e.tick(T0 + 5000);
  assert.equal(e.getState(id), 'failed');
  assert.deepEqual(e.stats(), { queued: 0, processing: 0, delayed: 0, dlq: 1 });
});

test('a job delivered before its ttl is not expired while it runs', () => {
  const e = engine();
  const id = push(e, 'q', { ttl: 100 });
  e.pull('q', 1, T0 + 50, 1);
  e.tick(T0 + 200);
  assert.equal(e.getState(id), 'active');
  e.ack(id, null, T0 + 300);
  assert.equal(e.getState(id), 'completed');
});

test('a job whose ttl ran out while it was running is not retried', () => {
  const e = engine();
  const id = push(e, 'q', { ttl: 100, maxAttempts: 3, backoff: 10 });
  e.pull('q', 1, T0 + 50, 1);
  e.tick(T0 + 150);
  e.fail(id, 'err', T0 + 160);
  assert.equal(e.getState(id), 'failed');
  assert.equal(e.getJob(id)!.error, 'TTL expired');
});

test('a retried job that is still within its ttl expires during its back-off', () => {
  const e = engine();
  const id = push(e, 'q', { ttl: 1000, maxAttempts: 3, backoff: 5000 });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'err', T0 + 10);
  assert.equal(e.getState(id), 'delayed');
  e.tick(T0 + 1000);
  assert.equal(e.getState(id), 'failed');
  assert.equal(e.getJob(id)!.error, 'TTL expired');
});

test('RETRYDLQ gives a fresh start: created now, attempts 0, ready now, last error kept', () => {
  const e = engine();
  const id = push(e, 'q', { ttl: 1000 });
  e.tick(T0 + 1000);
  assert.equal(e.retryDlq('q', null, T0 + 5000), 1);
  const v = e.getJob(id)!;
  assert.deepEqual([v.state, v.createdAt, v.runAt, v.attempts, v.error, v.finishedAt], ['waiting', T0 + 5000, T0 + 5000, 0, 'TTL expired', 0]);
  assert.deepEqual(e.stats(), { queued: 1, processing: 0, delayed: 0, dlq: 0 });
  // its ttl counts again from the new creation time
  e.tick(T0 + 5999);
  assert.equal(e.getState(id), 'waiting');
  e.tick(T0 + 6000);
  assert.equal(e.getState(id), 'failed');
});
