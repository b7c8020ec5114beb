/**
 * The default shard count, chosen from numbers: sequential PUSH latency and pipelined PUSH (one
 * connection) at SHARDS=0 (engine on the front thread), 1 and 2; PUSHB and PULLB+ACKB at 0, 1, 2
 * and 4 over four queues spread evenly across the shards.
 * Alone: `node dist/bench/run.js --only=shards [--quick] [--no-write]`.
 */
import { partitionOf } from '../src/engine/partition.js';
import { checkExactlyOnce } from './lib/delivery.js';
import type { LoadParams, LoadResult } from './lib/load.js';
import { parallel } from './lib/pool.js';
import { throughput, type Metric, type Scenario, type Step, type StepContext } from './lib/scenario.js';
import type { MultiParams } from './shards-load.js';
import { latencyMetrics, queueName, rate } from './tcp.js';

const loads = new URL('./shards-load.js', import.meta.url).href;
const singleLoads = new URL('./tcp-load-single.js', import.meta.url).href;
const QUEUES = 4;

/** Queue names whose partitions put queue i on shard i mod shards. */
function spreadQueues(shards: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 0, k = 0; out.length < QUEUES && k < 100_000; k++) {
    const name = `s.${tag}.${process.pid}.${k}`;
    if (shards <= 1 || partitionOf(name) % shards === i % shards) {
      out.push(name);
      i++;
    }
  }
  return out;
}

function step(shards: number, kind: 'push' | 'pull'): Step {
  const label = kind === 'push' ? `PUSHB ×1000, 100 B, SHARDS=${shards}` : `PULLB+ACKB ×1000, 100 B, SHARDS=${shards}`;
  return {
    id: `${kind}-${shards}`,
    label,
    async run(ctx: StepContext): Promise<Metric[]> {
      const n = ctx.quick ? 200_000 : 1_000_000;
      const server = await ctx.startFlashq({ SHARDS: String(shards) });
      try {
        const queues = spreadQueues(shards, `${kind}${ctx.run}`);
        const threads = Math.max(1, Math.min(ctx.clients, QUEUES));
        const params: MultiParams[] = Array.from({ length: threads }, (_, t) => ({
          port: server.port, framing: 'json', mode: 'raw', queue: queues[0]!, queues: queues.filter((_, i) => i % threads === t),
          n: Math.ceil(n / QUEUES), bytes: 100, batch: 1000, inFlight: kind === 'push' ? 4 : 2, deadline: ctx.deadline - 2000,
        }));
        const results = await parallel<MultiParams, LoadResult>(loads, kind === 'push' ? 'multiPush' : 'multiPull', params, ctx.deadline - Date.now());
        checkExactlyOnce(label, results.map((r) => r.pushed), results.map((r) => r.done));
        return [throughput(rate(results))];
      } finally {
        await server.stop();
      }
    },
  };
}

/** One raw JSON connection: PUSH one at a time (latency) or 100 in flight (rate). */
function singleStep(shards: number, kind: 'seq' | 'pipe'): Step {
  const label = kind === 'seq' ? `PUSH sequential, 100 B, SHARDS=${shards}` : `PUSH, 100 in flight, 100 B, SHARDS=${shards}`;
  return {
    id: `${kind}-${shards}`,
    label,
    async run(ctx: StepContext): Promise<Metric[]> {
      const n = kind === 'seq' ? (ctx.quick ? 4000 : 20_000) : ctx.quick ? 50_000 : 300_000;
      const server = await ctx.startFlashq({ SHARDS: String(shards) });
      try {
        const params: LoadParams[] = [{
          port: server.port, framing: 'json', mode: 'raw', queue: queueName(`${kind}-${shards}`), n, bytes: 100, batch: 1,
          inFlight: kind === 'seq' ? 1 : 100, deadline: ctx.deadline - 2000, counter: new Int32Array(new SharedArrayBuffer(4)), total: n,
        }];
        const results = await parallel<LoadParams, LoadResult>(singleLoads, kind === 'seq' ? 'pushSeq' : 'pushPipelined', params, ctx.deadline - Date.now());
        checkExactlyOnce(label, results.map((r) => r.pushed), results.map((r) => r.done));
        return kind === 'seq' ? [throughput(rate(results)), ...latencyMetrics(results)] : [throughput(rate(results))];
      } finally {
        await server.stop();
      }
    },
  };
}

export const scenarios: Scenario[] = [
  {
    id: 'shards',
    section: 'shards',
    title: 'Shard count: sequential and pipelined PUSH, PUSHB, PULLB+ACKB',
    system: 'flashQ',
    notes:
      'A fresh server per run with the given SHARDS. Sequential PUSH and PUSH ×100 in flight: one raw JSON connection. ' +
      `PUSHB and PULLB+ACKB: ${QUEUES} queues (one raw JSON connection each) chosen so they spread evenly over the shards; ` +
      'PUSHB keeps 4 batches of 1000 in flight per connection, PULLB+ACKB 2 pulls. Delivery is checked exactly once.',
    steps: () => [
      ...[0, 1, 2].flatMap((s) => [singleStep(s, 'seq'), singleStep(s, 'pipe')]),
      ...[0, 1, 2, 4].flatMap((s) => [step(s, 'push'), step(s, 'pull')]),
    ],
  },
];
