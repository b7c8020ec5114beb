import type { Counters } from '../engine/types.js';

export interface MetricsPoint {
  timestamp: number;
  total_pushed: number;
  total_completed: number;
  total_failed: number;
  jobs_per_second: number;
  avg_latency_ms: number;
  queued: number;
  processing: number;
  delayed: number;
  dlq: number;
  // the reference server's names for the same samples, so its dashboard reads this history as is
  /** = total_completed */
  completed: number;
  /** = total_failed */
  failed: number;
  /** = jobs_per_second */
  throughput: number;
  /** = avg_latency_ms */
  latency_ms: number;
}

export const HISTORY_POINTS = 60;
export const INTERVAL_MS = 5000;

/** Upper bounds (seconds) of the job latency histogram's buckets. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Job latency (completed − created) as a cumulative histogram. The shards only keep a latency sum,
 * so each metrics interval puts all the jobs it completed into the bucket of that interval's mean:
 * `count` and `sum` are exact, the bucket spread is per-interval (no per-job cost anywhere).
 */
export interface LatencyHistogram {
  /** cumulative counts per LATENCY_BUCKETS_S bound */
  buckets: number[];
  count: number;
  /** seconds */
  sum: number;
}

/**
 * Rates from cumulative counters: each sample is compared with the previous one, so
 * `jobs_per_second` is completions over the last interval and `avg_latency_ms` the mean
 * (completed − created) of the jobs completed in it. Keeps the last 60 points.
 */
export class MetricsHistory {
  private prev: { at: number; counters: Counters } | null = null;
  private last = { jobsPerSecond: 0, avgLatencyMs: 0 };
  readonly points: MetricsPoint[] = [];
  readonly latency: LatencyHistogram = { buckets: LATENCY_BUCKETS_S.map(() => 0), count: 0, sum: 0 };

  record(at: number, counters: Counters, stats: { queued: number; processing: number; delayed: number; dlq: number }): MetricsPoint {
    if (this.prev && at > this.prev.at) {
      const done = counters.totalCompleted - this.prev.counters.totalCompleted;
      const latency = counters.latencySumMs - this.prev.counters.latencySumMs;
      this.last = {
        jobsPerSecond: Math.round((done * 1000 * 100) / (at - this.prev.at)) / 100,
        avgLatencyMs: done > 0 ? Math.round((latency * 100) / done) / 100 : 0,
      };
      if (done > 0) this.observeLatency(done, latency);
    }
    this.prev = { at, counters: { ...counters } };
    const point: MetricsPoint = {
      timestamp: at,
      total_pushed: counters.totalPushed,
      total_completed: counters.totalCompleted,
      total_failed: counters.totalFailed,
      jobs_per_second: this.last.jobsPerSecond,
      avg_latency_ms: this.last.avgLatencyMs,
      ...stats,
      completed: counters.totalCompleted,
      failed: counters.totalFailed,
      throughput: this.last.jobsPerSecond,
      latency_ms: this.last.avgLatencyMs,
    };
    this.points.push(point);
    if (this.points.length > HISTORY_POINTS) this.points.shift();
    return point;
  }

  private observeLatency(done: number, latencySumMs: number): void {
    const h = this.latency;
    const meanS = latencySumMs / done / 1000;
    for (let k = 0; k < LATENCY_BUCKETS_S.length; k++) if (meanS <= LATENCY_BUCKETS_S[k]!) h.buckets[k] = h.buckets[k]! + done;
    h.count += done;
    h.sum += latencySumMs / 1000;
  }

  rates(): { jobsPerSecond: number; avgLatencyMs: number } {
    return this.last;
  }
}
