import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsHistory } from '../../src/metrics/history.js';

const T0 = Date.UTC(2024, 0, 1);
const idle = { queued: 0, processing: 0, delayed: 0, dlq: 0 };

test('each history point carries the reference names beside its own: completed, failed, throughput, latency_ms', () => {
  const h = new MetricsHistory();
  h.record(T0, { totalPushed: 10, totalCompleted: 2, totalFailed: 1, latencySumMs: 40 }, idle);
  // 5 s later: 50 more completions whose latencies add up to 1500 ms, 3 more failures
  const p = h.record(T0 + 5000, { totalPushed: 80, totalCompleted: 52, totalFailed: 4, latencySumMs: 1540 }, { ...idle, queued: 24 });
  assert.deepEqual(p, {
    timestamp: T0 + 5000,
    total_pushed: 80,
    total_completed: 52,
    total_failed: 4,
    jobs_per_second: 10,
    avg_latency_ms: 30,
    queued: 24,
    processing: 0,
    delayed: 0,
    dlq: 0,
    completed: 52,
    failed: 4,
    throughput: 10,
    latency_ms: 30,
  });
  // an idle interval: the cumulative names stay, the rates fall to 0
  const q = h.record(T0 + 10_000, { totalPushed: 80, totalCompleted: 52, totalFailed: 4, latencySumMs: 1540 }, idle);
  assert.deepEqual([q.completed, q.failed, q.throughput, q.latency_ms], [52, 4, 0, 0]);
  assert.equal(h.points.length, 3);
});
