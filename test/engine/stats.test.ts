import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, engine, job, push, throwsFlashq } from './helpers.js';

test('counters: pushed, completed, failed and the latency sum', () => {
  const e = engine();
  e.push('q', [job(), job(), job()], T0);
  const [a, b, c] = e.pull('q', 3, T0 + 10, 1).map((j) => j.id);
  e.ack(a!, null, T0 + 100);
  e.ackBatch([b!], T0 + 200);
  e.fail(c!, 'x', T0 + 300);
  assert.deepEqual(e.counters(), { totalPushed: 3, totalCompleted: 2, totalFailed: 1, latencySumMs: 300 });
});

test('stats and listQueues follow every state', () => {
  const e = engine();
  push(e, 'a');
  push(e, 'a', { delay: 10 });
  const parent = push(e, 'b', { delay: 10 });
  push(e, 'b', { dependsOn: [parent] });
  push(e, 'b');
  e.pull('b', 1, T0, 1);
  const f = push(e, 'c');
  e.pull('c', 1, T0, 1);
  e.fail(f, 'x', T0);
  assert.deepEqual(e.stats(), { queued: 1, processing: 1, delayed: 3, dlq: 1 });
  assert.deepEqual(e.listQueues(), [
    { name: 'a', pending: 2, waiting: 1, delayed: 1, waitingChildren: 0, processing: 0, dlq: 0, paused: false, rateLimit: null, concurrencyLimit: null },
    { name: 'b', pending: 2, waiting: 0, delayed: 1, waitingChildren: 1, processing: 1, dlq: 0, paused: false, rateLimit: null, concurrencyLimit: null },
    { name: 'c', pending: 0, waiting: 0, delayed: 0, waitingChildren: 0, processing: 0, dlq: 1, paused: false, rateLimit: null, concurrencyLimit: null },
  ]);
});

test('at most maxQueues live queues: "Too many queues (max N)"', () => {
  const e = engine({ maxQueues: 2 });
  push(e, 'a');
  e.pause('b');
  throwsFlashq(() => push(e, 'c'), 'Too many queues (max 2)');
  throwsFlashq(() => e.setRateLimit('c', 5, T0), 'Too many queues (max 2)');
  throwsFlashq(() => e.cronUpsert('cr', 'c', '* * * * * *', '{}', 0, T0), 'Too many queues (max 2)');
  assert.deepEqual(
    e.listQueues().map((q) => q.name),
    ['a', 'b'],
  );
  push(e, 'a'); // existing queues still take jobs
});

test('a queue is forgotten once its last retained job is evicted, freeing its place', () => {
  const e = engine({ maxQueues: 2, keepCompleted: 1 });
  const a = push(e, 'a');
  e.pull('a', 1, T0, 1);
  e.ack(a, null, T0);
  assert.deepEqual(
    e.listQueues().map((q) => q.name),
    ['a'],
    'a retained job keeps its queue',
  );
  const z = push(e, 'z');
  e.pull('z', 1, T0, 1);
  e.ack(z, null, T0); // evicts a's job
  assert.deepEqual(
    e.listQueues().map((q) => q.name),
    ['z'],
  );
  push(e, 'b');
  throwsFlashq(() => push(e, 'c'), 'Too many queues (max 2)');
});

test('settings and crons keep an empty queue; clearing them forgets it', () => {
  const e = engine();
  e.pause('p');
  e.setRateLimit('r', 3, T0);
  e.setConcurrency('c', 3);
  e.cronUpsert('job', 'k', '0 * * * * *', '{}', 0, T0);
  assert.deepEqual(
    e.listQueues().map((q) => q.name),
    ['c', 'k', 'p', 'r'],
  );
  e.resume('p');
  e.clearRateLimit('r');
  e.clearConcurrency('c');
  e.cronDelete('job');
  assert.deepEqual(e.listQueues(), []);
});

test('a cancelled job in an otherwise empty queue lets the queue go', () => {
  const e = engine({ maxQueues: 1 });
  const id = push(e, 'a');
  e.cancel(id, T0);
  assert.deepEqual(e.listQueues(), []);
  push(e, 'b');
  assert.deepEqual(
    e.listQueues().map((q) => q.name),
    ['b'],
  );
});

test('pushing into a partition this engine does not own is an internal error', () => {
  const e = engine({ owns: () => false });
  throwsFlashq(() => push(e, 'q'), `Internal error: queue q belongs to partition ${partitionFor("q")}, not owned here`);
});

function partitionFor(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 256;
}

test('ids of foreign partitions behave as unknown jobs', () => {
  const e = engine({ owns: (p) => p === partitionFor('q') });
  const id = push(e, 'q');
  const foreign = id + 1; // same sequence, next partition
  assert.equal(e.getState(foreign), 'unknown');
  assert.equal(e.getJob(foreign), null);
  throwsFlashq(() => e.ack(foreign, null, T0), `Job ${foreign} not found`);
  assert.equal(e.getState(-5), 'unknown');
  assert.equal(e.getState(1.5), 'unknown');
});
