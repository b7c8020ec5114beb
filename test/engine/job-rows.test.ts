import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestoredJob } from '../../src/engine/api.js';
import { JobRows, SEGMENT_MASK, SEGMENT_SHIFT, STORED_STATES } from '../../src/engine/job-rows.js';
import { partitionOf } from '../../src/engine/partition.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { T0, engine, job } from './helpers.js';

// more rows than two segments hold, so every check crosses segment boundaries
const N = (2 << SEGMENT_SHIFT) + 1234;

function stored(i: number, queue: string): RestoredJob {
  const state = STORED_STATES[i % 3]!; // waiting, delayed, active
  return {
    ...job({ data: `{"i":${i}}`, priority: i % 7, ttl: i * 3, timeout: i * 5, maxAttempts: 1 + (i % 4), backoff: 100 + i, lifo: i % 2 === 0 }),
    id: (i + 1) * PARTITIONS + partitionOf(queue),
    queue,
    state,
    createdAt: T0 + i,
    runAt: T0 + i + (state === 'delayed' ? 60_000 : 0),
    startedAt: state === 'active' ? T0 + i + 1 : 0,
    attempts: i % 5,
    progress: i % 101,
    progressMsg: null,
    result: null,
    error: null,
    finishedAt: 0,
  };
}

test('rows read back column by column across segments', () => {
  const jobs = Array.from({ length: N }, (_, i) => stored(i, `q${i % 3}`));
  const rows = JobRows.of(jobs);
  assert.equal(rows.count, N);
  assert.equal(rows.segments.length, 3);
  for (let i = 0; i < N; i++) {
    const j = jobs[i]!;
    const g = rows.segmentOf(i);
    const k = i & SEGMENT_MASK;
    assert.equal(rows.id(i), j.id);
    assert.equal(rows.queueOf(i), j.queue);
    assert.equal(rows.stateOf(i), j.state);
    assert.equal(rows.data[i], j.data);
    assert.deepEqual(
      [g.priority[k], g.ttl[k], g.timeout[k], g.maxAttempts[k], g.backoff[k], g.lifo[k] === 1, g.created[k], g.runAt[k], g.startedAt[k], g.attempts[k], g.progress[k]],
      [j.priority, j.ttl, j.timeout, j.maxAttempts, j.backoff, j.lifo, j.createdAt, j.runAt, j.startedAt, j.attempts, j.progress],
      `row ${i}`,
    );
  }
});

test('payloads copied into blocks read back whole across block boundaries', () => {
  const rows = new JobRows();
  const texts: string[] = [];
  // 3000 payloads of ~1 KB fill about three 1 MiB blocks; one over the block threshold stays a string
  for (let i = 0; i < 3000; i++) {
    const text = JSON.stringify({ i, pad: 'x'.repeat(900 + (i % 200)) });
    texts.push(text);
    const src = Buffer.from(`\t${text}\t`, 'latin1');
    rows.setAsciiData(rows.add(), src, 1, src.length - 1);
  }
  const big = JSON.stringify({ big: 'y'.repeat(100_000) });
  texts.push(big);
  rows.setAsciiData(rows.add(), Buffer.from(big, 'latin1'), 0, big.length);
  const blocks = new Set(rows.data.filter((d) => typeof d !== 'string'));
  assert.ok(blocks.size >= 3, `expected several blocks, got ${blocks.size}`);
  assert.equal(typeof rows.data[3000], 'string');
  for (let i = 0; i < texts.length; i++) {
    const d = rows.data[i]!;
    const g = rows.segmentOf(i);
    const k = i & SEGMENT_MASK;
    assert.equal(typeof d === 'string' ? d : d.toString('latin1', g.ds[k]!, g.de[k]!), texts[i], `payload ${i}`);
  }
});

test('an engine restored from rows in any order serves each queue in push order', () => {
  const jobs = Array.from({ length: N }, (_, i) => ({ ...stored(i, `q${i % 3}`), state: 'waiting' as const, runAt: T0 + i, ttl: 0 }));
  // a deterministic shuffle: the store reads in id order, other inputs may not
  const shuffled = jobs.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const k = (i * 7919) % (i + 1);
    [shuffled[i], shuffled[k]] = [shuffled[k]!, shuffled[i]!];
  }
  for (const rows of [JobRows.of(jobs), JobRows.of(shuffled)]) {
    const e = engine();
    e.restore({ jobs: rows, queues: [], crons: [], seqs: [] }, T0 + N);
    for (const q of ['q0', 'q1', 'q2']) {
      const want = jobs.filter((j) => j.queue === q).map((j) => j.data);
      const got: string[] = [];
      for (;;) {
        const batch = e.pull(q, 1000, T0 + N, 1);
        if (batch.length === 0) break;
        got.push(...batch.map((v) => v.data));
      }
      // priority first, then push order (lifo jobs of a priority level come newest first)
      const byPriority = (data: string) => jobs[JSON.parse(data).i as number]!;
      assert.equal(got.length, want.length, `${q}: every job delivered`);
      for (let k = 1; k < got.length; k++) {
        const a = byPriority(got[k - 1]!);
        const b = byPriority(got[k]!);
        assert.ok(a.priority >= b.priority, `${q}: priority order at ${k}`);
        if (a.priority === b.priority && !a.lifo && !b.lifo) assert.ok(a.id < b.id, `${q}: push order at ${k}`);
      }
    }
  }
});

test('restoring sorts rows whose ids are too far apart to pack into one number', () => {
  // a job of seq 2^44 beside seqs from 1: (id span) × (rows) is past 2^53, so the comparator sort runs
  const far = 2 ** 44;
  const jobs = Array.from({ length: 5000 }, (_, i) => {
    const j = { ...stored(i, `q${i % 2}`), state: 'waiting' as const, runAt: T0, createdAt: T0, ttl: 0, priority: 0, lifo: false };
    return i === 4999 ? { ...j, id: far * PARTITIONS + partitionOf(j.queue) } : j;
  });
  const rotated = [...jobs.slice(3000), ...jobs.slice(0, 3000)];
  const e = engine();
  e.restore({ jobs: JobRows.of(rotated), queues: [], crons: [], seqs: [] }, T0);
  for (const q of ['q0', 'q1']) {
    const want = jobs.filter((j) => j.queue === q).map((j) => j.id);
    const got = e.pull(q, 10_000, T0, 1).map((v) => v.id);
    assert.deepEqual(got, want, `${q}: push order`);
  }
});

test('waiting jobs restore in run-time order within each queue, however the queues interleave', () => {
  // each queue's rows ascend, but the queues' run times interleave out of order across queues
  const jobs = Array.from({ length: 4000 }, (_, i) => {
    const q = `q${i % 2}`;
    const at = q === 'q0' ? T0 + i : T0 + 100_000 - i;
    return { ...stored(i, q), state: 'waiting' as const, createdAt: at, runAt: at, ttl: 0, priority: 0, lifo: false };
  });
  const e = engine();
  e.restore({ jobs: JobRows.of(jobs), queues: [], crons: [], seqs: [] }, T0 + 200_000);
  assert.deepEqual(e.pull('q0', 10_000, T0 + 200_000, 1).map((v) => v.id), jobs.filter((j) => j.queue === 'q0').map((j) => j.id));
  // q1's later pushes run earlier: the ready order follows run time
  assert.deepEqual(e.pull('q1', 10_000, T0 + 200_000, 1).map((v) => v.id), jobs.filter((j) => j.queue === 'q1').map((j) => j.id).reverse());
});

test('rows as the store reads them: live ones in push order, then finished ones newest first', () => {
  // finished rows carry older ids and come last (the store's second COPY): the live rows decide
  // alone whether restoring must sort, and the finished ones are ordered by finish time
  const live = Array.from({ length: 3000 }, (_, i) => ({ ...stored(1000 + i, `q${i % 2}`), state: 'waiting' as const, createdAt: T0, runAt: T0, ttl: 0, priority: 0, lifo: false }));
  const dead = Array.from({ length: 1000 }, (_, i) => ({ ...stored(i, `q${i % 2}`), state: 'failed' as const, createdAt: T0, runAt: T0, ttl: 0, finishedAt: T0 + i, error: `e${i}` }));
  const e = engine();
  e.restore({ jobs: JobRows.of([...live, ...dead.slice().reverse()]), queues: [], crons: [], seqs: [] }, T0 + 5000);
  for (const q of ['q0', 'q1']) {
    assert.deepEqual(e.pull(q, 10_000, T0 + 5000, 1).map((v) => v.id), live.filter((j) => j.queue === q).map((j) => j.id), `${q}: push order`);
    assert.deepEqual(e.dlq(q, 10_000).map((v) => v.id), dead.filter((j) => j.queue === q).map((j) => j.id), `${q}: DLQ oldest first`);
  }
});
