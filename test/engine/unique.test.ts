import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, engine, job, push, throwsFlashq } from './helpers.js';

test('a second push with a live unique key answers "Duplicate job: key K"', () => {
  const e = engine();
  push(e, 'q', { uniqueKey: 'k1' });
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'k1' }), 'Duplicate job: key k1');
  assert.equal(e.counters().totalPushed, 1);
  // keys are per queue: the same key is free in another queue, and then held there too
  push(e, 'other', { uniqueKey: 'k1' });
  assert.equal(e.counters().totalPushed, 2);
  throwsFlashq(() => push(e, 'other', { uniqueKey: 'k1' }), 'Duplicate job: key k1');
  assert.equal(e.counters().totalPushed, 2);
});

test('the key is held while waiting, delayed, waiting-children, active and in the DLQ', () => {
  const e = engine();
  const parent = push(e, 'q');
  push(e, 'q', { uniqueKey: 'delayed', delay: 100 });
  push(e, 'q', { uniqueKey: 'children', dependsOn: [parent] });
  for (const k of ['delayed', 'children']) throwsFlashq(() => push(e, 'q', { uniqueKey: k }), `Duplicate job: key ${k}`);
  const active = push(e, 'q', { uniqueKey: 'active' });
  e.pull('q', 10, T0, 1); // parent and active
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'active' }), 'Duplicate job: key active');
  e.fail(active, 'x', T0);
  assert.equal(e.getState(active), 'failed');
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'active' }), 'Duplicate job: key active');
});

test('the key is released on completion and can be used again', () => {
  const e = engine();
  const id = push(e, 'q', { uniqueKey: 'k' });
  e.pull('q', 1, T0, 1);
  e.ack(id, null, T0);
  const again = push(e, 'q', { uniqueKey: 'k' });
  assert.notEqual(again, id);
});

test('the key is released on cancel and on ttl expiry', () => {
  const e = engine();
  const a = push(e, 'q', { uniqueKey: 'c' });
  e.cancel(a, T0);
  push(e, 'q', { uniqueKey: 'c' });
  push(e, 'q', { uniqueKey: 't', ttl: 10 });
  e.tick(T0 + 10);
  push(e, 'q', { uniqueKey: 't' }, T0 + 10);
});

test('the key is released when the DLQ entry is evicted from retention', () => {
  const e = engine({ keepCompleted: 1 });
  const id = push(e, 'q', { uniqueKey: 'k' });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'x', T0);
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'k' }), 'Duplicate job: key k');
  const other = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.ack(other, null, T0 + 1); // evicts the failed job
  assert.equal(e.getState(id), 'unknown');
  assert.deepEqual(e.dlq('q', 10), []);
  push(e, 'q', { uniqueKey: 'k' });
});

test('a DLQ job retried keeps holding its key', () => {
  const e = engine();
  const id = push(e, 'q', { uniqueKey: 'k' });
  e.pull('q', 1, T0, 1);
  e.fail(id, 'x', T0);
  assert.equal(e.retryDlq('q', id, T0 + 1), 1);
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'k' }), 'Duplicate job: key k');
});

test('a ttl-expired DLQ job whose key was taken meanwhile stays in the DLQ on retry', () => {
  const e = engine();
  const old = push(e, 'q', { uniqueKey: 'k', ttl: 10 });
  e.tick(T0 + 10);
  const fresh = push(e, 'q', { uniqueKey: 'k' }, T0 + 11);
  assert.equal(e.retryDlq('q', null, T0 + 12), 0);
  assert.equal(e.getState(old), 'failed');
  throwsFlashq(() => e.retryDlq('q', old, T0 + 12), 'Duplicate job: key k');
  e.pull('q', 1, T0 + 13, 1);
  e.ack(fresh, null, T0 + 13);
  assert.equal(e.retryDlq('q', null, T0 + 14), 1);
  throwsFlashq(() => push(e, 'q', { uniqueKey: 'k' }, T0 + 15), 'Duplicate job: key k');
});

test('a batch with a duplicate key inside it changes nothing', () => {
  const e = engine();
  throwsFlashq(
    () => e.push('q', [job({ data: '1', uniqueKey: 'a' }), job({ data: '2' }), job({ data: '3', uniqueKey: 'a' })], T0),
    'Duplicate job: key a',
  );
  assert.deepEqual(e.listQueues(), []);
  assert.equal(e.counters().totalPushed, 0);
  push(e, 'q', { uniqueKey: 'a' });
});

test('a batch colliding with a live key changes nothing', () => {
  const e = engine();
  const first = push(e, 'q', { uniqueKey: 'a' });
  throwsFlashq(() => e.push('q', [job({ uniqueKey: 'b' }), job({ uniqueKey: 'a' })], T0), 'Duplicate job: key a');
  assert.equal(e.stats().queued, 1);
  push(e, 'q', { uniqueKey: 'b' }); // b was not taken by the failed batch
  // the next id continues the sequence: the failed batch consumed none
  assert.equal(push(e, 'q') - first, 2 * 256);
});
