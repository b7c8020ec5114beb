/**
 * flashQ over TCP (JSON lines and MessagePack): push latency and rate, PUSHB, PULLB+ACKB, the client
 * Worker, push→handler latency, payload sizes. Each step runs its load in load threads and checks
 * exact delivery from the ids they logged.
 */
import { FlashqClient } from '../src/client/index.js';
import { checkExactlyOnce, DeliveryError } from './lib/delivery.js';
import type { LoadParams, LoadResult } from './lib/load.js';
import { parallel } from './lib/pool.js';
import type { Framing } from './lib/raw.js';
import { latencies, throughput, type Metric, type Scenario, type Step, type StepContext } from './lib/scenario.js';
import { quantile } from './lib/stats.js';

const batchLoads = new URL('./tcp-load.js', import.meta.url).href;
const singleLoads = new URL('./tcp-load-single.js', import.meta.url).href;

let seq = 0;
export function queueName(step: string): string {
  return `b.${step}.${process.pid}.${++seq}`;
}

/** Throughput over the union of the threads' windows. */
export function rate(results: LoadResult[]): number {
  let ops = 0;
  let t0 = Infinity;
  let t1 = 0;
  for (const r of results) {
    ops += r.ops;
    t0 = Math.min(t0, r.t0);
    t1 = Math.max(t1, r.t1);
  }
  return (ops / (t1 - t0)) * 1000;
}

export function latencyMetrics(results: LoadResult[]): Metric[] {
  const all = Float64Array.from(results.flatMap((r) => Array.from(r.lat ?? []))).sort();
  return latencies(quantile(all, 0.5), quantile(all, 0.99), quantile(all, 0.999));
}

/** A Worker step must leave nothing behind: no job pending, active or in the DLQ. */
async function leftovers(port: number, framing: Framing, queue: string): Promise<void> {
  const c = new FlashqClient({ port, framing });
  await c.connect();
  const q = (await c.listQueues()).find((x) => x.name === queue);
  await c.close();
  if (q && (q.pending || q.processing || q.dlq)) {
    throw new DeliveryError(`${queue}: ${q.pending} pending, ${q.processing} active, ${q.dlq} in the DLQ after the worker finished`);
  }
}

interface Spec {
  id: string;
  label: string;
  module: string;
  fn: string;
  framing: Framing;
  mode: 'raw' | 'client';
  n: number;
  quickN: number;
  bytes?: number;
  batch?: number;
  inFlight?: number;
  concurrency?: number;
  /** one thread whatever the machine: latency steps */
  single?: boolean;
  compare?: string;
  targets?: Step['targets'];
  peerTargets?: Step['peerTargets'];
}

function step(s: Spec): Step {
  return {
    id: s.id,
    label: s.label,
    compare: s.compare,
    targets: s.targets,
    peerTargets: s.peerTargets,
    async run(ctx: StepContext): Promise<Metric[]> {
      const server = await ctx.flashq();
      const threads = s.single ? 1 : ctx.clients;
      const n = ctx.quick ? s.quickN : s.n;
      const queue = queueName(s.id);
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const params: LoadParams[] = Array.from({ length: threads }, () => ({
        port: server.port,
        framing: s.framing,
        mode: s.mode,
        queue,
        n: Math.ceil(n / threads),
        bytes: s.bytes ?? 100,
        batch: s.batch ?? 1000,
        inFlight: s.inFlight ?? 1,
        concurrency: s.concurrency,
        deadline: ctx.deadline - 2000,
        counter,
        total: Math.ceil(n / threads) * threads,
      }));
      const results = await parallel<LoadParams, LoadResult>(s.module, s.fn, params, ctx.deadline - Date.now());
      checkExactlyOnce(s.label, results.map((r) => r.pushed), results.map((r) => r.done));
      if (s.fn === 'workerRun') await leftovers(server.port, s.framing, queue);
      return s.fn === 'pushSeq' || s.fn === 'e2eLatency' ? [throughput(rate(results)), ...latencyMetrics(results)] : [throughput(rate(results))];
    },
  };
}

function specs(): Spec[] {
  const out: Spec[] = [];
  const framings: Framing[] = ['json', 'msgpack'];
  for (const f of framings) {
    const primary = f === 'json';
    out.push(
      { id: `push-seq-raw-${f}`, label: `PUSH sequential, raw ${f}`, module: singleLoads, fn: 'pushSeq', framing: f, mode: 'raw', n: 20_000, quickN: 4000, single: true, ...(primary ? { targets: [{ metric: 'p99', op: '<=', value: 150 }] } : {}) },
      { id: `push-seq-client-${f}`, label: `PUSH sequential, client ${f}`, module: singleLoads, fn: 'pushSeq', framing: f, mode: 'client', n: 20_000, quickN: 4000, single: true, ...(primary ? { compare: 'add-seq', targets: [{ metric: 'p99', op: '<=', value: 150 }], peerTargets: [{ metric: 'p99', op: '<=', ratio: 0.25 }] } : {}) },
      { id: `push-100-raw-${f}`, label: `PUSH, 100 in flight, raw ${f}`, module: singleLoads, fn: 'pushPipelined', framing: f, mode: 'raw', n: 300_000, quickN: 50_000, inFlight: 100, ...(primary ? { targets: [{ metric: 'throughput', op: '>=', value: 250_000 }] } : {}) },
      { id: `push-100-client-${f}`, label: `PUSH, 100 in flight, client ${f}`, module: singleLoads, fn: 'pushPipelined', framing: f, mode: 'client', n: 200_000, quickN: 40_000, inFlight: 100, ...(primary ? { compare: 'add-100' } : {}) },
    );
    for (const bytes of [100, 1000, 10_000]) {
      const batch = bytes >= 10_000 ? 100 : 1000;
      const n = bytes >= 10_000 ? 50_000 : bytes >= 1000 ? 300_000 : 1_000_000;
      const quickN = bytes >= 10_000 ? 10_000 : bytes >= 1000 ? 50_000 : 200_000;
      const main = primary && bytes === 100;
      out.push(
        { id: `pushb-raw-${f}-${bytes}`, label: `PUSHB ×${batch}, ${bytes} B, raw ${f}`, module: batchLoads, fn: 'pushBatches', framing: f, mode: 'raw', n, quickN, bytes, batch, inFlight: 4, ...(main ? { targets: [{ metric: 'throughput', op: '>=', value: 1_000_000 }] } : {}) },
        { id: `pullb-raw-${f}-${bytes}`, label: `PULLB+ACKB ×${batch}, ${bytes} B, raw ${f}`, module: batchLoads, fn: 'pullAck', framing: f, mode: 'raw', n, quickN, bytes, batch, inFlight: 2, ...(main ? { targets: [{ metric: 'throughput', op: '>=', value: 500_000 }] } : {}) },
      );
    }
    out.push(
      { id: `pushb-client-${f}`, label: `PUSHB ×1000, 100 B, client ${f}`, module: batchLoads, fn: 'pushBatches', framing: f, mode: 'client', n: 500_000, quickN: 100_000, inFlight: 4, ...(primary ? { compare: 'bulk-add', peerTargets: [{ metric: 'throughput', op: '>=', ratio: 25 }] } : {}) },
      { id: `pullb-client-${f}`, label: `PULLB+ACKB ×1000, 100 B, client ${f}`, module: batchLoads, fn: 'pullAck', framing: f, mode: 'client', n: 500_000, quickN: 100_000, inFlight: 2 },
      { id: `worker-1-${f}`, label: `Worker, concurrency 1, ${f}`, module: singleLoads, fn: 'workerRun', framing: f, mode: 'client', n: 20_000, quickN: 5000, concurrency: 1, ...(primary ? { compare: 'worker-1' } : {}) },
      {
        id: `worker-100-${f}`, label: `Worker, concurrency 100, ${f}`, module: singleLoads, fn: 'workerRun', framing: f, mode: 'client', n: 300_000, quickN: 60_000, concurrency: 100,
        ...(primary ? { compare: 'worker-100', targets: [{ metric: 'throughput', op: '>=', value: 150_000 }], peerTargets: [{ metric: 'throughput', op: '>=', ratio: 5 }] } : {}),
      },
      { id: `e2e-${f}`, label: `push→handler latency, ${f}`, module: singleLoads, fn: 'e2eLatency', framing: f, mode: 'client', n: 5000, quickN: 1000, single: true, ...(primary ? { compare: 'e2e' } : {}) },
    );
  }
  return out;
}

export const scenarios: Scenario[] = [
  {
    id: 'tcp',
    title: 'flashQ over TCP',
    system: 'flashQ',
    notes:
      'One server with the default settings (in memory, default shard count), load generator on the same machine. ' +
      '"raw" = pre-encoded requests on a bare socket, answers scanned for ids (the server\'s cost); "client" = FlashqClient / Worker from src/client. ' +
      'PUSHB keeps 4 batches in flight, PULLB+ACKB 2 pulls (timeout 0) each followed by its ACKB; jobs of 10 KB go in batches of 100 (a request line is capped near 1 MiB). ' +
      'Latency steps run one request at a time after a warm-up. Every run checks that each pushed id was processed exactly once (queues are drained off the clock).',
    steps: () => specs().map(step),
  },
];
