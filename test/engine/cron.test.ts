import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRunAfter } from '../../src/engine/cron-schedule.js';
import { T0, engine, throwsFlashq } from './helpers.js';

const at = (iso: string) => Date.parse(iso);
const next = (schedule: string, from: string) => new Date(nextRunAfter(schedule, at(from))).toISOString();

test('cron: the next run is strictly after now, across second and minute boundaries', () => {
  assert.equal(next('* * * * * *', '2024-01-01T00:00:00.000Z'), '2024-01-01T00:00:01.000Z');
  assert.equal(next('* * * * * *', '2024-01-01T00:00:00.400Z'), '2024-01-01T00:00:01.000Z');
  assert.equal(next('0 * * * * *', '2024-01-01T00:00:59.500Z'), '2024-01-01T00:01:00.000Z');
  assert.equal(next('0 * * * * *', '2024-01-01T00:01:00.000Z'), '2024-01-01T00:02:00.000Z');
  assert.equal(next('*/15 * * * * *', '2024-01-01T00:00:44.000Z'), '2024-01-01T00:00:45.000Z');
});

test('cron: hour, day, month and year boundaries in UTC', () => {
  assert.equal(next('0 0 * * * *', '2024-01-01T00:59:59.999Z'), '2024-01-01T01:00:00.000Z');
  assert.equal(next('0 0 0 * * *', '2024-01-31T23:59:59.000Z'), '2024-02-01T00:00:00.000Z');
  assert.equal(next('0 0 0 1 * *', '2024-12-15T08:00:00.000Z'), '2025-01-01T00:00:00.000Z');
  assert.equal(next('0 0 3 * * *', '2024-06-30T03:00:00.000Z'), '2024-07-01T03:00:00.000Z');
  assert.equal(next('0 0 0 29 2 *', '2024-03-01T00:00:00.000Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(next('0 0 12 31 * *', '2024-04-01T00:00:00.000Z'), '2024-05-31T12:00:00.000Z');
});

test('cron: weekdays, Sunday 0, ranges and lists', () => {
  // 2024-01-05 is a Friday
  assert.equal(next('0 30 9 * * 1-5', '2024-01-05T10:00:00.000Z'), '2024-01-08T09:30:00.000Z');
  assert.equal(next('0 30 9 * * 1-5', '2024-01-05T09:00:00.000Z'), '2024-01-05T09:30:00.000Z');
  assert.equal(next('0 0 12 * * 0', '2024-01-01T00:00:00.000Z'), '2024-01-07T12:00:00.000Z');
  assert.equal(next('0 0 8 * * 2,4', '2024-01-03T09:00:00.000Z'), '2024-01-04T08:00:00.000Z');
  assert.equal(next('0 0,30 * * * *', '2024-01-01T10:10:00.000Z'), '2024-01-01T10:30:00.000Z');
});

test('cron: five fields mean seconds 0', () => {
  assert.equal(next('*/5 * * * *', '2024-01-01T00:02:30.000Z'), '2024-01-01T00:05:00.000Z');
  assert.equal(next('0 0 * * *', '2024-01-01T00:00:00.000Z'), '2024-01-02T00:00:00.000Z');
  assert.equal(next('30 9 * * 1-5', '2024-01-06T00:00:00.000Z'), '2024-01-08T09:30:00.000Z');
});

test('cron: exactly */N is an interval of N seconds counted from now', () => {
  assert.equal(nextRunAfter('*/60', T0), T0 + 60_000);
  assert.equal(nextRunAfter('*/1', T0 + 123), T0 + 1_123);
  assert.equal(nextRunAfter(' */5 ', T0), T0 + 5_000);
  // with more fields it stays standard cron: */5 in the seconds field is :00, :05, :10 …
  assert.equal(next('*/5 * * * * *', '2024-01-01T00:00:01.300Z'), '2024-01-01T00:00:05.000Z');
  assert.equal(next('*/5 * * * *', '2024-01-01T00:00:01.300Z'), '2024-01-01T00:05:00.000Z');
  throwsFlashq(() => nextRunAfter('*/0', T0), 'Invalid cron expression: interval */0 must be at least 1 second');
  throwsFlashq(() => nextRunAfter('*/4294967296', T0), 'Invalid cron expression: interval */4294967296 is longer than 4294967295 seconds');
  throwsFlashq(() => nextRunAfter('*/-5', T0), 'Invalid cron expression: expected 5 or 6 fields, got 1');
  throwsFlashq(() => nextRunAfter('*/1.5', T0), 'Invalid cron expression: expected 5 or 6 fields, got 1');
  throwsFlashq(() => nextRunAfter('*/', T0), 'Invalid cron expression: expected 5 or 6 fields, got 1');
});

test('an interval cron fires every N seconds from its creation, keeps its schedule as given, and collapses missed runs', () => {
  const e = engine();
  const v = e.cronUpsert('every-7s', 'q', '*/7', '{"n":1}', 3, T0 + 500);
  assert.equal(v.schedule, '*/7');
  assert.equal(v.nextRun, T0 + 7_500);
  e.tick(T0 + 7_499);
  assert.equal(e.stats().queued, 0);
  e.tick(T0 + 7_500);
  assert.equal(e.stats().queued, 1);
  assert.deepEqual(e.cronList().map((c) => [c.schedule, c.nextRun]), [['*/7', T0 + 14_500]]);
  // the server was away for a minute: one push, then every 7 s from the late run
  e.tick(T0 + 74_000);
  assert.equal(e.stats().queued, 2);
  assert.equal(e.cronList()[0]!.nextRun, T0 + 81_000);
  const [j] = e.pull('q', 1, T0 + 74_000, 1);
  assert.equal(j!.data, '{"n":1}');
  assert.equal(j!.priority, 3);
});

test('cron: invalid or over-long schedules are refused with "Invalid cron expression"', () => {
  throwsFlashq(() => nextRunAfter('60 * * * * *', T0), 'Invalid cron expression: Constraint error, got value 60 expected range 0-59');
  throwsFlashq(() => nextRunAfter('a b c', T0), 'Invalid cron expression: expected 5 or 6 fields, got 3');
  throwsFlashq(() => nextRunAfter('', T0), 'Invalid cron expression: expected 5 or 6 fields, got 0');
  throwsFlashq(() => nextRunAfter('* * * * * * *', T0), 'Invalid cron expression: expected 5 or 6 fields, got 7');
  throwsFlashq(() => nextRunAfter('@daily', T0), 'Invalid cron expression: expected 5 or 6 fields, got 1');
  throwsFlashq(() => nextRunAfter('0 '.repeat(128) + '0', T0), 'Invalid cron expression: longer than 256 characters');
  assert.throws(() => nextRunAfter('0 0 0 30 2 *', T0), /^FlashqError: Invalid cron expression: /);
  assert.throws(() => nextRunAfter('*/0 * * * * *', T0), /^FlashqError: Invalid cron expression: /);
});

test('cronUpsert validates name, queue and schedule, and lists crons by name', () => {
  const e = engine();
  const v = e.cronUpsert('nightly', 'maint', '0 0 3 * * *', '{"a":1}', 5, T0);
  assert.deepEqual(v, { name: 'nightly', queue: 'maint', data: '{"a":1}', schedule: '0 0 3 * * *', priority: 5, nextRun: T0 + 3 * 3600_000 });
  e.cronUpsert('every-minute', 'maint', '0 * * * * *', '{}', 0, T0);
  assert.deepEqual(
    e.cronList().map((c) => c.name),
    ['every-minute', 'nightly'],
  );
  throwsFlashq(() => e.cronUpsert('bad name', 'q', '* * * * * *', '{}', 0, T0), 'Invalid cron name: "bad name"');
  throwsFlashq(() => e.cronUpsert('ok', 'bad queue', '* * * * * *', '{}', 0, T0), 'Invalid queue name: "bad queue"');
  throwsFlashq(() => e.cronUpsert('ok', 'q', 'nope', '{}', 0, T0), 'Invalid cron expression: expected 5 or 6 fields, got 1');
  assert.equal(e.cronList().length, 2);
  assert.equal(e.cronDelete('nightly'), true);
  assert.equal(e.cronDelete('nightly'), false);
  assert.deepEqual(
    e.cronList().map((c) => c.name),
    ['every-minute'],
  );
});

test('tick fires a due cron once through the normal push path and schedules the next run', () => {
  const e = engine();
  e.setEventsEnabled(true);
  e.cronUpsert('c', 'q', '*/10 * * * * *', '{"tick":true}', 7, T0);
  assert.equal(e.nextDue(), T0 + 10_000);
  e.tick(T0 + 9_999);
  assert.equal(e.stats().queued, 0);
  e.tick(T0 + 10_000);
  const [j] = e.pull('q', 10, T0 + 10_000, 1);
  assert.equal(j!.data, '{"tick":true}');
  assert.equal(j!.priority, 7);
  assert.equal(j!.maxAttempts, 1);
  assert.equal(e.cronList()[0]!.nextRun, T0 + 20_000);
  assert.equal(e.counters().totalPushed, 1);
  assert.ok(e.takeEffects().events.some((ev) => ev.type === 'job.pushed' && ev.queue === 'q'));
});

test('missed runs collapse into one push; the next run is after now', () => {
  const e = engine();
  e.cronUpsert('c', 'q', '0 * * * * *', '{}', 0, T0);
  e.tick(T0 + 10 * 60_000 + 5_000);
  assert.equal(e.stats().queued, 1);
  assert.equal(e.cronList()[0]!.nextRun, T0 + 11 * 60_000);
});

test('replacing a cron reschedules it; a deleted cron never fires', () => {
  const e = engine();
  e.cronUpsert('c', 'q', '0 * * * * *', '{}', 0, T0);
  e.cronUpsert('c', 'q2', '0 0 * * * *', '{"v":2}', 0, T0);
  assert.equal(e.cronList().length, 1);
  assert.equal(e.nextDue(), T0 + 3600_000);
  e.tick(T0 + 60_000);
  assert.equal(e.stats().queued, 0);
  e.tick(T0 + 3600_000);
  assert.equal(e.pull('q2', 1, T0 + 3600_000, 1)[0]!.data, '{"v":2}');
  e.cronDelete('c');
  e.tick(T0 + 7200_000);
  assert.equal(e.stats().queued, 0);
  assert.equal(e.nextDue(), Infinity);
});
