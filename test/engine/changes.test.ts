import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionOf } from '../../src/engine/partition.js';
import { T0, engine, job, push } from './helpers.js';

test('without persistence no changes are recorded', () => {
  const e = engine();
  push(e, 'q');
  e.pause('q');
  assert.deepEqual(e.takeChanges(), { inserted: [], updated: [], deleted: [], retimed: [], queues: [], cronsUpserted: [], cronsDeleted: [], seqs: [], cronsFired: [], cronPartitions: [] });
});

test('pushed jobs are inserts with their current view, plus the advanced sequence', () => {
  const e = engine({ persist: true });
  const [a, b] = e.push('q', [job({ data: '1' }), job({ data: '2' })], T0);
  const ch = e.takeChanges();
  assert.deepEqual(
    ch.inserted.map((v) => [v.id, v.data, v.state]),
    [
      [a!.id, '1', 'waiting'],
      [b!.id, '2', 'waiting'],
    ],
  );
  assert.deepEqual(ch.seqs, [{ partition: partitionOf('q'), seq: 2 }]);
  assert.deepEqual(e.takeChanges().inserted, []);
});

test('an insert followed by changes in the same turn stays one insert with the latest view', () => {
  const e = engine({ persist: true });
  const id = push(e, 'q');
  e.pull('q', 1, T0 + 1, 1);
  e.ack(id, '"r"', T0 + 2);
  const ch = e.takeChanges();
  assert.equal(ch.inserted.length, 1);
  assert.equal(ch.inserted[0]!.state, 'completed');
  assert.equal(ch.inserted[0]!.result, '"r"');
  assert.deepEqual(ch.updated, []);
});

test('an insert then a delete in one turn leaves nothing', () => {
  const e = engine({ persist: true });
  const id = push(e, 'q');
  e.cancel(id, T0);
  const ch = e.takeChanges();
  assert.deepEqual([ch.inserted, ch.updated, ch.deleted], [[], [], []]);
});

test('jobs from earlier turns are updates (once each), then deletes when removed', () => {
  const e = engine({ persist: true, keepCompleted: 1 });
  const a = push(e, 'q');
  const b = push(e, 'q', { delay: 10 });
  e.takeChanges();
  e.pull('q', 1, T0, 1);
  e.progress(a, 50, null, T0);
  e.progress(a, 60, null, T0);
  let ch = e.takeChanges();
  assert.deepEqual(
    ch.updated.map((v) => [v.id, v.state, v.progress]),
    [[a, 'active', 60]],
  );
  e.cancel(b, T0);
  e.ack(a, null, T0);
  ch = e.takeChanges();
  assert.deepEqual(ch.deleted, [b]);
  assert.deepEqual(
    ch.updated.map((v) => v.id),
    [a],
  );
  // evicted from retention by a newer finished job
  const c = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.takeChanges();
  e.ack(c, null, T0);
  ch = e.takeChanges();
  assert.deepEqual(ch.deleted, [a]);
  assert.deepEqual(
    ch.updated.map((v) => v.id),
    [c],
  );
});

test('queue settings, crons and cron runs are recorded, coalesced to their last value', () => {
  const e = engine({ persist: true });
  e.pause('q');
  e.setRateLimit('q', 10, T0);
  e.setConcurrency('q', 3);
  e.cronUpsert('c', 'q', '0 * * * * *', '{}', 0, T0);
  e.cronUpsert('d', 'q', '0 * * * * *', '{}', 0, T0);
  e.cronDelete('d');
  let ch = e.takeChanges();
  assert.deepEqual(ch.queues, [{ name: 'q', paused: true, rateLimit: 10, concurrencyLimit: 3 }]);
  assert.deepEqual(
    ch.cronsUpserted.map((c) => [c.name, c.nextRun]),
    [['c', T0 + 60_000]],
  );
  assert.deepEqual(ch.cronsDeleted, ['d']);
  e.tick(T0 + 60_000);
  ch = e.takeChanges();
  assert.deepEqual(
    ch.cronsUpserted.map((c) => [c.name, c.nextRun]),
    [['c', T0 + 120_000]],
  );
  assert.equal(ch.inserted.length, 1);
  e.resume('q');
  e.clearRateLimit('q');
  e.clearConcurrency('q');
  assert.deepEqual(e.takeChanges().queues, [{ name: 'q', paused: false, rateLimit: null, concurrencyLimit: null }]);
});

test('events are off by default and cost nothing', () => {
  const e = engine();
  const id = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.ack(id, null, T0);
  assert.deepEqual(e.takeEffects().events, []);
});

test('events: pushed and started carry the payload, completed the result, failed the error', () => {
  const e = engine();
  e.setEventsEnabled(true);
  e.push('q', [job({ data: '{"n":1}' }), job({ data: '{"n":2}' })], T0);
  const [a, b] = e.pull('q', 2, T0 + 1, 1).map((j) => j.id);
  e.ack(a!, '{"ok":true}', T0 + 2);
  e.fail(b!, 'bad', T0 + 3);
  const evs = e.takeEffects().events.map((ev) => [ev.type, ev.jobId, ev.timestamp, ev.data, ev.error, ev.progress, ev.queue]);
  assert.deepEqual(evs, [
    ['job.pushed', a, T0, '{"n":1}', null, null, 'q'],
    ['job.pushed', b, T0, '{"n":2}', null, null, 'q'],
    ['job.started', a, T0 + 1, '{"n":1}', null, null, 'q'],
    ['job.started', b, T0 + 1, '{"n":2}', null, null, 'q'],
    ['job.completed', a, T0 + 2, '{"ok":true}', null, null, 'q'],
    ['job.failed', b, T0 + 3, null, 'bad', null, 'q'],
  ]);
  e.setEventsEnabled(false);
  push(e, 'q');
  assert.deepEqual(e.takeEffects().events, []);
});

test('jobs whose created or run time moved are listed as retimed; pulls, acks and progress are not', () => {
  const e = engine({ persist: true });
  const backoff = push(e, 'q', { maxAttempts: 3, backoff: 100 });
  const again = push(e, 'r', { maxAttempts: 3, backoff: 0 });
  const dead = push(e, 's', { maxAttempts: 1 });
  const done = push(e, 't');
  e.takeChanges();
  for (const q of ['q', 'r', 's', 't']) e.pull(q, 1, T0 + 1, 1);
  e.progress(done, 10, null, T0 + 2);
  e.ack(done, null, T0 + 3);
  let ch = e.takeChanges();
  assert.equal(ch.updated.length, 4);
  assert.deepEqual(ch.retimed, []);
  e.fail(backoff, 'x', T0 + 4); // delayed by its backoff
  e.fail(again, 'x', T0 + 4); // waiting again, run time now
  e.fail(dead, 'x', T0 + 4); // to the DLQ: times unchanged
  ch = e.takeChanges();
  assert.deepEqual([...ch.retimed].sort(), [backoff, again].sort());
  assert.equal(e.retryDlq('s', dead, T0 + 5), 1); // revived: created now
  ch = e.takeChanges();
  assert.deepEqual(ch.retimed, [dead]);
  assert.deepEqual(
    ch.updated.map((v) => [v.id, v.createdAt, v.runAt]),
    [[dead, T0 + 5, T0 + 5]],
  );
});
