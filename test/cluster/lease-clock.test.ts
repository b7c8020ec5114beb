import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseClock } from '../../src/cluster/lease-clock.js';

function driven(ttl: number, margin: number) {
  const t = { now: 1000 };
  return { t, clock: new LeaseClock(ttl, margin, () => t.now) };
}

test('a partition is served until renewal start + TTL − margin, not a moment longer', () => {
  const { t, clock } = driven(10_000, 2_000);
  const started = clock.start();
  t.now += 700; // the renewal's round trip: the deadline counts from when it was sent
  clock.renewed(7, started);
  t.now = 1000 + 7_999;
  assert.equal(clock.valid(7), true);
  assert.deepEqual(clock.expire(), []);
  t.now = 1000 + 8_000;
  assert.equal(clock.valid(7), false);
  assert.deepEqual(clock.expire(), [7]);
  assert.deepEqual(clock.expire(), [], 'an expired partition is reported once');
});

test('a renewal moves the deadline; a failed renewal leaves the old one to pass', () => {
  const { t, clock } = driven(1_000, 100);
  clock.renewed(1, clock.start());
  clock.renewed(2, clock.start());
  t.now += 500;
  clock.renewed(1, clock.start()); // partition 2's renewal failed: nothing recorded
  assert.equal(clock.nextExpiryIn(), 400);
  t.now += 400;
  assert.deepEqual(clock.expire(), [2]);
  assert.equal(clock.valid(1), true);
  assert.equal(clock.nextExpiryIn(), 500);
});

test('a forgotten partition is neither valid nor reported as expiring', () => {
  const { t, clock } = driven(1_000, 0);
  clock.renewed(3, clock.start());
  clock.forget(3);
  assert.equal(clock.valid(3), false);
  assert.equal(clock.nextExpiryIn(), null);
  t.now += 5_000;
  assert.deepEqual(clock.expire(), []);
});

test('the margin must leave part of the TTL', () => {
  assert.throws(() => new LeaseClock(1_000, 1_000, () => 0), RangeError);
  assert.throws(() => new LeaseClock(1_000, -1, () => 0), RangeError);
});
