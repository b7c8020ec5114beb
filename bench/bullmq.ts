/**
 * The peer: the same scenarios with BullMQ on a redis-server this script starts (127.0.0.1, a free
 * port, no persistence) and stops. Steps carry the `compare` keys of their flashQ counterparts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BullParams, BullResult } from './bullmq-load.js';
import { checkAccepted, checkExactlyOnce, DeliveryError } from './lib/delivery.js';
import { parallel } from './lib/pool.js';
import { command, REDIS_SERVER, startRedis, type RedisServer } from './lib/redis.js';
import { throughput, type Metric, type Scenario, type Step, type StepContext } from './lib/scenario.js';
import { redisMemoryStep } from './memory.js';
import { latencyMetrics, queueName, rate } from './tcp.js';

const loads = new URL('./bullmq-load.js', import.meta.url).href;
let redis: RedisServer | null = null;

export function currentRedis(): RedisServer {
  if (!redis) throw new Error('redis-server is not running');
  return redis;
}

function bullmqVersion(): string {
  try {
    const req = createRequire(import.meta.url);
    return (req('bullmq/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

interface Spec {
  id: string;
  label: string;
  fn: 'addSeq' | 'addPipelined' | 'addBulk' | 'workerRun' | 'e2eLatency';
  compare: string;
  n: number;
  quickN: number;
  batch?: number;
  inFlight?: number;
  concurrency?: number;
  single?: boolean;
}

function step(s: Spec): Step {
  return {
    id: s.id,
    label: s.label,
    compare: s.compare,
    timeoutMs: 240_000,
    async run(ctx: StepContext): Promise<Metric[]> {
      const r = currentRedis();
      const threads = s.single ? 1 : ctx.clients;
      const n = ctx.quick ? s.quickN : s.n;
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const per = Math.ceil(n / threads);
      const queue = queueName(s.id);
      const params: BullParams[] = Array.from({ length: threads }, () => ({
        redisPort: r.port, queue, n: per, bytes: 100, batch: s.batch ?? 1000, inFlight: s.inFlight ?? 1,
        concurrency: s.concurrency, deadline: ctx.deadline - 2000, counter, total: per * threads,
      }));
      try {
        const results = await parallel<BullParams, BullResult>(loads, s.fn, params, ctx.deadline - Date.now());
        if (s.fn === 'workerRun' || s.fn === 'e2eLatency') {
          checkExactlyOnce(`BullMQ ${s.label}`, results.map((x) => x.pushed), results.map((x) => x.done));
          const left = results.reduce((a, x) => a + (x.left ?? 0), 0);
          if (left) throw new DeliveryError(`BullMQ ${s.label}: ${left} jobs left waiting, active or failed`);
        } else {
          const waiting = Math.max(...results.map((x) => x.waiting ?? 0));
          checkAccepted(`BullMQ ${s.label}`, results.map((x) => x.pushed), results.reduce((a, x) => a + x.pushed.length, 0), waiting);
        }
        const lat = s.fn === 'addSeq' || s.fn === 'e2eLatency';
        return lat ? [throughput(rate(results)), ...latencyMetrics(results)] : [throughput(rate(results))];
      } finally {
        // every step starts from an empty Redis, as every flashQ step starts from an empty queue
        await command(r.port, ['FLUSHALL']);
      }
    },
  };
}

const specs: Spec[] = [
  { id: 'add-seq', label: 'add, sequential', fn: 'addSeq', compare: 'add-seq', n: 20_000, quickN: 4000, single: true },
  { id: 'add-100', label: 'add, 100 in flight', fn: 'addPipelined', compare: 'add-100', n: 60_000, quickN: 20_000, inFlight: 100 },
  { id: 'add-bulk', label: 'addBulk ×1000, 100 B', fn: 'addBulk', compare: 'bulk-add', n: 150_000, quickN: 50_000, batch: 1000, inFlight: 4 },
  { id: 'worker-1', label: 'Worker, concurrency 1', fn: 'workerRun', compare: 'worker-1', n: 5000, quickN: 2000, concurrency: 1 },
  { id: 'worker-100', label: 'Worker, concurrency 100', fn: 'workerRun', compare: 'worker-100', n: 60_000, quickN: 20_000, concurrency: 100 },
  { id: 'e2e', label: 'add→processor latency', fn: 'e2eLatency', compare: 'e2e', n: 5000, quickN: 1000, single: true },
];

export const scenarios: Scenario[] = [
  {
    id: 'bullmq',
    title: 'BullMQ (peer)',
    system: 'BullMQ',
    notes: '',
    async available() {
      if (!existsSync(REDIS_SERVER)) return `${REDIS_SERVER} is missing`;
      try {
        await import('ioredis' as string);
      } catch {
        return 'the ioredis package is missing (BullMQ 6 needs it as its Redis client: npm install --save-dev ioredis)';
      }
      return null;
    },
    async setup() {
      redis = await startRedis();
      this.notes =
        `BullMQ ${bullmqVersion()} with ioredis on redis-server ${redis.version} started by the script on 127.0.0.1 with ` +
        "`--save '' --appendonly no` (no persistence, as BullMQ is usually benchmarked) and stopped at the end; the same " +
        'machine, payloads (100 B) and in-flight counts as the flashQ steps. Workers keep BullMQ\'s defaults (completed jobs are kept). ' +
        'Push-only steps check that every job got its own id and that the wait list holds them all; worker steps check each job was processed exactly once.';
    },
    async teardown() {
      await redis?.stop();
      redis = null;
    },
    steps: () => [...specs.map(step), redisMemoryStep()],
  },
];
