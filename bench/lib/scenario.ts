/**
 * The contract between bench/run.ts and a scenario module (bench/tcp.ts, bench/bullmq.ts,
 * bench/memory.ts, bench/shards.ts, and bench/http.ts, bench/grpc.ts, bench/durable.ts when they
 * exist). A module exports `scenarios: Scenario[]`. run.ts repeats every step `runs` times
 * (3, or 1 with --quick), interleaving the repetitions of all steps so a noisy minute of the shared
 * machine hits every step a little instead of one step a lot, and reports the median and min–max of
 * each metric. Steps of different systems that carry the same `compare` key are put side by side
 * with their ratio.
 */
import type { FlashqServer, ServerEnv } from './server.js';

export type Better = 'higher' | 'lower';

/** One number measured by one run of a step. */
export interface Metric {
  /** stable key, the same across runs and across the systems compared: 'throughput', 'p50', 'p99', 'p999', 'bytesPerJob' */
  key: string;
  /** unit shown in tables: 'jobs/s', 'µs', 'B/job', 'MB/s' */
  unit: string;
  value: number;
  better: Better;
}

/** An absolute goal for one metric of a step, shown as pass/fail. */
export interface Target {
  metric: string;
  op: '>=' | '<=';
  value: number;
}

/**
 * A goal for the ratio to the peer's step of the same `compare` key: ours / theirs, so
 * `{ metric: 'throughput', op: '>=', ratio: 25 }` means 25× faster and
 * `{ metric: 'p99', op: '<=', ratio: 0.25 }` means a quarter of their latency.
 */
export interface PeerTarget {
  metric: string;
  op: '>=' | '<=';
  ratio: number;
}

export interface StepContext {
  quick: boolean;
  /** 0-based repetition */
  run: number;
  /** load-generator threads a throughput step may use (bench/lib/pool.ts); 1 on a 2-core machine */
  clients: number;
  /** the shared flashQ server: default settings, TCP listener only (HTTP_PORT=GRPC_PORT=0), started on first use */
  flashq(): Promise<FlashqServer>;
  /**
   * a private flashQ server (memory, shard counts, HTTP, gRPC, PostgreSQL): every listener on a free
   * port unless env says otherwise; the step must stop it (run.ts stops leftovers at the end)
   */
  startFlashq(env?: ServerEnv): Promise<FlashqServer>;
  /** a short status line on stderr while a long step runs */
  progress(message: string): void;
  /** epoch ms by which the step must have returned; loads derive their own bounds from it */
  deadline: number;
}

export interface Step {
  /** unique within its scenario, e.g. 'pushb-json-100' */
  id: string;
  /** the row text */
  label: string;
  /** steps of different systems with the same key are compared (their metric keys must match) */
  compare?: string;
  targets?: Target[];
  peerTargets?: PeerTarget[];
  /** longest a run may take, ms; default 120 s (30 s with --quick) */
  timeoutMs?: number;
  /**
   * One measured run. It must check exact delivery itself (bench/lib/delivery.ts: every pushed job
   * processed exactly once, or every job accepted exactly once for steps that only push) and throw
   * a DeliveryError when the check fails; run.ts then fails the whole run.
   */
  run(ctx: StepContext): Promise<Metric[]>;
}

export interface Scenario {
  /** BENCHMARKS.md section `bench-<id>` unless `section` is given */
  id: string;
  section?: string;
  title: string;
  /** column name in comparisons: 'flashQ', 'BullMQ' */
  system: string;
  /** a paragraph under the title: what is measured and how */
  notes?: string;
  /** null when it can run here, else why it is skipped (e.g. no redis-server) */
  available?(): Promise<string | null>;
  setup?(ctx: { quick: boolean }): Promise<void>;
  teardown?(): Promise<void>;
  steps(opts: { quick: boolean }): Step[];
}

/** Shorthands for the metrics most steps return. */
export const throughput = (jobsPerSecond: number): Metric => ({ key: 'throughput', unit: 'jobs/s', value: jobsPerSecond, better: 'higher' });

export function latencies(p50: number, p99: number, p999: number): Metric[] {
  return [
    { key: 'p50', unit: 'µs', value: p50, better: 'lower' },
    { key: 'p99', unit: 'µs', value: p99, better: 'lower' },
    { key: 'p999', unit: 'µs', value: p999, better: 'lower' },
  ];
}
