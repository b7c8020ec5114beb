import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, drain, engine, push, throwsFlashq } from './helpers.js';

test('a paused queue accepts pushes but delivers nothing until resumed', () => {
  const e = engine();
  e.pause('q');
  push(e, 'q', { data: 'a' });
  assert.deepEqual(drain(e, 'q'), []);
  assert.equal(e.pullBlock('q', T0), 'paused');
  assert.equal(e.listQueues()[0]!.paused, true);
  e.takeEffects();
  e.resume('q');
  assert.deepEqual(e.takeEffects().wake, ['q']);
  assert.equal(e.pullBlock('q', T0), null);
  assert.deepEqual(drain(e, 'q'), ['a']);
});

test('rate limit N: a bucket of N tokens refilled at N per second', () => {
  const e = engine();
  e.setRateLimit('q', 2, T0);
  for (let i = 0; i < 10; i++) push(e, 'q', { data: String(i) });
  assert.deepEqual(drain(e, 'q', T0), ['0', '1']);
  assert.equal(e.pullBlock('q', T0), 'rate_limited');
  assert.deepEqual(drain(e, 'q', T0 + 499), []);
  assert.deepEqual(drain(e, 'q', T0 + 500), ['2']);
  assert.deepEqual(drain(e, 'q', T0 + 1500), ['3', '4']); // capped at 2 tokens
  assert.equal(e.listQueues()[0]!.rateLimit, 2);
});

test('a pull refused by the rate limit makes nextDue the refill time and tick wakes the queue', () => {
  const e = engine();
  e.setRateLimit('q', 4, T0);
  for (let i = 0; i < 6; i++) push(e, 'q');
  assert.equal(e.pull('q', 10, T0, 1).length, 4);
  e.takeEffects();
  assert.equal(e.nextDue(), T0 + 250);
  e.tick(T0 + 249);
  assert.deepEqual(e.takeEffects().wake, []);
  e.tick(T0 + 250);
  assert.deepEqual(e.takeEffects().wake, ['q']);
  assert.equal(e.nextDue(), Infinity);
});

test('clearing the rate limit lets everything through', () => {
  const e = engine();
  e.setRateLimit('q', 1, T0);
  for (let i = 0; i < 3; i++) push(e, 'q');
  assert.equal(e.pull('q', 10, T0, 1).length, 1);
  e.clearRateLimit('q');
  assert.equal(e.pullBlock('q', T0), null);
  assert.equal(e.pull('q', 10, T0, 1).length, 2);
  assert.equal(e.listQueues()[0]!.rateLimit, null);
});

test('concurrency N: at most N active jobs; the slot comes back on ack', () => {
  const e = engine();
  e.setConcurrency('q', 2);
  const ids = [push(e, 'q'), push(e, 'q'), push(e, 'q')];
  assert.equal(e.pull('q', 10, T0, 1).length, 2);
  assert.equal(e.pull('q', 10, T0, 1).length, 0);
  assert.equal(e.pullBlock('q', T0), null);
  e.takeEffects();
  e.ack(ids[0]!, null, T0);
  assert.deepEqual(e.takeEffects().wake, ['q']);
  assert.equal(e.pull('q', 10, T0, 1).length, 1);
  assert.equal(e.listQueues()[0]!.concurrencyLimit, 2);
});

test('concurrency slots come back on every path: fail, timeout, lost lease', () => {
  const e = engine();
  e.setConcurrency('q', 1);
  const a = push(e, 'q', { maxAttempts: 5, backoff: 0 });
  const b = push(e, 'q', { timeout: 100 });
  const c = push(e, 'q');
  assert.deepEqual(e.pull('q', 10, T0, 1).map((j) => j.id), [a]);
  e.fail(a, 'x', T0);
  assert.deepEqual(e.pull('q', 10, T0, 1).map((j) => j.id), [b]);
  e.tick(T0 + 100); // b timed out into the DLQ
  assert.deepEqual(e.pull('q', 10, T0 + 100, 9).map((j) => j.id), [c]);
  assert.equal(e.releaseOwner(9, T0 + 101), 1);
  assert.deepEqual(e.pull('q', 10, T0 + 101, 1).map((j) => j.id), [a]);
  e.ack(a, null, T0 + 102);
  assert.equal(e.listQueues()[0]!.processing, 0);
  assert.equal(e.stats().processing, 0);
});

test('raising or clearing the concurrency limit wakes the queue', () => {
  const e = engine();
  e.setConcurrency('q', 1);
  push(e, 'q');
  push(e, 'q');
  e.pull('q', 10, T0, 1);
  e.takeEffects();
  e.setConcurrency('q', 2);
  assert.deepEqual(e.takeEffects().wake, ['q']);
  e.pull('q', 10, T0, 1);
  push(e, 'q');
  e.takeEffects();
  e.clearConcurrency('q');
  assert.deepEqual(e.takeEffects().wake, ['q']);
  assert.equal(e.pull('q', 10, T0, 1).length, 1);
});

test('concurrency and rate limit together: the tighter one wins and tokens are only spent on deliveries', () => {
  const e = engine();
  e.setConcurrency('q', 1);
  e.setRateLimit('q', 5, T0);
  for (let i = 0; i < 5; i++) push(e, 'q');
  const [first] = e.pull('q', 10, T0, 1);
  e.ack(first!.id, null, T0);
  for (let i = 0; i < 4; i++) {
    const [j] = e.pull('q', 10, T0, 1);
    e.ack(j!.id, null, T0);
  }
  assert.equal(e.pullBlock('q', T0), 'rate_limited');
});

test('pushes wake their queue; a push to a paused queue does not', () => {
  const e = engine();
  push(e, 'q');
  assert.deepEqual(e.takeEffects().wake, ['q']);
  push(e, 'q', { delay: 10 });
  assert.deepEqual(e.takeEffects().wake, []);
  e.tick(T0 + 10);
  assert.deepEqual(e.takeEffects().wake, ['q']);
  e.pause('p');
  push(e, 'p');
  assert.deepEqual(e.takeEffects().wake, []);
});

test('invalid limits are refused and change nothing', () => {
  const e = engine();
  throwsFlashq(() => e.setRateLimit('q', 0, T0), 'Rate limit must be a positive number');
  throwsFlashq(() => e.setConcurrency('q', -1), 'Concurrency limit must be a positive integer');
  assert.deepEqual(e.listQueues(), []);
});
