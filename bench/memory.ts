/**
 * Memory per waiting job: flashQ's resident set growth (whole process, every thread) over N waiting
 * jobs of 100 B, and Redis's INFO used_memory growth over the same jobs added through BullMQ.
 * RSS counts allocator slack and not-yet-collected garbage that used_memory does not, so the
 * comparison leans against flashQ; Redis's own RSS growth is shown beside it.
 */
import type { BullParams, BullResult } from './bullmq-load.js';
import { checkAccepted, checkExactlyOnce } from './lib/delivery.js';
import type { LoadParams } from './lib/load.js';
import { parallel } from './lib/pool.js';
import { fill, drain } from './lib/raw-batch.js';
import { command, redisMemory } from './lib/redis.js';
import type { Metric, Scenario, Step, StepContext } from './lib/scenario.js';
import { sleep } from './lib/stats.js';
import { currentRedis } from './bullmq.js';
import { queueName } from './tcp.js';

const bullLoads = new URL('./bullmq-load.js', import.meta.url).href;

const perJob = (bytes: number): Metric => ({ key: 'bytesPerJob', unit: 'B/job', value: bytes, better: 'lower' });
const aside = (key: string, bytes: number): Metric => ({ key, unit: 'B/job', value: bytes, better: 'lower' });

/** Median of a few RSS samples, so one GC in progress does not decide the number. */
async function settledRss(read: () => number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    await sleep(500);
    xs.push(read());
  }
  return xs.sort((a, b) => a - b)[1]!;
}

function flashqMemoryStep(): Step {
  return {
    id: 'memory-waiting',
    label: 'memory per waiting job (100 B), server RSS growth',
    compare: 'memory',
    peerTargets: [{ metric: 'bytesPerJob', op: '<=', ratio: 0.5 }],
    async run(ctx: StepContext): Promise<Metric[]> {
      const n = ctx.quick ? 200_000 : 1_000_000;
      const server = await ctx.startFlashq();
      try {
        const base: LoadParams = { port: server.port, framing: 'json', mode: 'raw', queue: queueName('mem-warm'), n: 20_000, bytes: 100, batch: 1000, inFlight: 4, deadline: ctx.deadline - 2000 };
        // warm the code paths and buffers first, so the growth is the jobs' and not start-up's
        await fill(base);
        await drain(base);
        const before = await settledRss(server.rss);
        const p = { ...base, n, queue: queueName('memory') };
        ctx.progress(`filling ${n.toLocaleString('en-US')} jobs`);
        const pushed = await fill(p);
        const after = await settledRss(server.rss);
        const done = await drain(p);
        checkExactlyOnce('memory', [pushed], [done]);
        if (before === 0) throw new Error('cannot read the server RSS (/proc missing)');
        return [perJob((after - before) / n)];
      } finally {
        await server.stop();
      }
    },
  };
}

/** BullMQ's side, run by the bullmq scenario (it owns the redis-server). */
export function redisMemoryStep(): Step {
  return {
    id: 'memory-waiting',
    label: 'memory per waiting job (100 B), Redis used_memory growth',
    compare: 'memory',
    timeoutMs: 300_000,
    async run(ctx: StepContext): Promise<Metric[]> {
      const n = ctx.quick ? 50_000 : 300_000;
      const r = currentRedis();
      await command(r.port, ['FLUSHALL']);
      const before = await redisMemory(r.port);
      const params: BullParams = { redisPort: r.port, queue: queueName('memory'), n, bytes: 100, batch: 1000, inFlight: 4, deadline: ctx.deadline - 5000 };
      ctx.progress(`adding ${n.toLocaleString('en-US')} jobs`);
      try {
        const [res] = await parallel<BullParams, BullResult>(bullLoads, 'addBulk', [params], ctx.deadline - Date.now());
        const after = await redisMemory(r.port);
        checkAccepted('BullMQ memory', [res!.pushed], n, res!.waiting ?? 0);
        return [perJob((after.used - before.used) / n), aside('rssPerJob', (after.rss - before.rss) / n)];
      } finally {
        await command(r.port, ['FLUSHALL']);
      }
    },
  };
}

export const scenarios: Scenario[] = [
  {
    id: 'memory',
    title: 'flashQ memory per waiting job',
    system: 'flashQ',
    notes:
      'A fresh server per run (default settings, in memory); after a warm-up, N jobs of 100 B are pushed with PUSHB and left waiting; ' +
      'the growth of the server process\'s VmRSS (all threads), sampled after it settles, divided by N. The jobs are then drained to check delivery.',
    steps: () => [flashqMemoryStep()],
  },
];
