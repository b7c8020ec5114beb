/**
 * The same load on BullMQ, for `flashq-ts bench --redis URL`: addBulk batches, then a Worker with
 * a no-op processor, then sequential adds. bullmq and ioredis are loaded only here, so the CLI
 * works without them; their absence is reported in words.
 */
import { checkExactlyOnce, DeliveryError, IdLog } from './delivery.js';
import { payloadOf, phase, type LoadOptions, type PhaseResult, type Tick } from './flashq.js';

export interface BullmqResult {
  version: string;
  push: PhaseResult;
  process: PhaseResult;
  pushLatency: PhaseResult;
  exactlyOnce: true;
}

interface BullQueue {
  addBulk(jobs: { name: string; data: unknown }[]): Promise<{ id?: string }[]>;
  add(name: string, data: unknown): Promise<{ id?: string }>;
  obliterate(o: { force: boolean }): Promise<void>;
  close(): Promise<void>;
}
interface BullWorker {
  on(ev: 'completed', fn: (job: { id?: string }) => void): void;
  on(ev: 'failed', fn: (job: { id?: string } | undefined, err: Error) => void): void;
  close(): Promise<void>;
}
interface BullModule {
  Queue: new (name: string, o: { connection: unknown }) => BullQueue;
  Worker: new (name: string, fn: (job: unknown) => Promise<void>, o: { connection: unknown; concurrency: number; autorun?: boolean }) => BullWorker;
}
interface RedisConn {
  quit(): Promise<unknown>;
  connect(): Promise<void>;
  on(ev: 'error', fn: (e: Error) => void): unknown;
}
type RedisCtor = new (url: string, o: { maxRetriesPerRequest: null; lazyConnect?: boolean; retryStrategy?: () => null }) => RedisConn;

/** A connection that reports a refused connect once instead of retrying forever (a bench has no use for a retry). */
async function connectRedis(Redis: RedisCtor, url: string): Promise<RedisConn> {
  const conn = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: () => null });
  let last: Error | null = null;
  conn.on('error', (e) => (last = e));
  try {
    await conn.connect();
  } catch (e) {
    throw new MissingPeerError(`cannot reach Redis at ${url}: ${((last ?? e) as Error).message}`);
  }
  return conn;
}

export class MissingPeerError extends Error {
  override name = 'MissingPeerError';
}

async function load(): Promise<{ bull: BullModule; Redis: RedisCtor; version: string }> {
  let bull: BullModule;
  let Redis: RedisCtor;
  try {
    bull = (await import('bullmq' as string)) as BullModule;
  } catch {
    throw new MissingPeerError('--redis needs the bullmq package, which is not installed here (npm install bullmq ioredis)');
  }
  try {
    const mod = (await import('ioredis' as string)) as { default?: RedisCtor; Redis?: RedisCtor };
    Redis = (mod.Redis ?? mod.default)!;
  } catch {
    throw new MissingPeerError('--redis needs the ioredis package, which is not installed here (npm install ioredis)');
  }
  const { createRequire } = await import('node:module');
  let version = '?';
  try {
    version = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  } catch {
    // the version is only shown
  }
  return { bull, Redis, version };
}

export async function runBullmq(url: string, o: LoadOptions, tick: Tick): Promise<BullmqResult> {
  const { bull, Redis, version } = await load();
  const conn = await connectRedis(Redis, url);
  const name = `${o.queue}-bullmq`;
  const queue = new bull.Queue(name, { connection: conn });
  const data = payloadOf(o.payload);
  const pushed = new IdLog(o.jobs);
  const done = new IdLog(o.jobs);
  try {
    const lat: number[] = [];
    let left = o.jobs;
    let t0 = performance.now();
    const lane = async () => {
      while (left > 0) {
        const n = Math.min(o.batch, left);
        left -= n;
        const s = performance.now();
        const jobs = await queue.addBulk(Array.from({ length: n }, () => ({ name: 'j', data })));
        lat.push((performance.now() - s) * 1000);
        for (const j of jobs) pushed.add(Number(j.id));
        tick('BullMQ push', n);
      }
    };
    await Promise.all(Array.from({ length: o.inFlight * o.connections }, lane));
    const push = phase(o.jobs, t0, performance.now(), lat);

    t0 = performance.now();
    const procLat: number[] = [];
    const workerConn = await connectRedis(Redis, url);
    const processed = await new Promise<number>((resolve, reject) => {
      let n = 0;
      const timer = setTimeout(() => reject(new DeliveryError(`BullMQ processed ${n} of ${o.jobs} jobs in ${o.timeoutMs} ms`)), o.timeoutMs);
      const worker = new bull.Worker(name, async () => {}, { connection: workerConn, concurrency: Math.max(1, o.batch) });
      worker.on('completed', (job) => {
        done.add(Number(job.id));
        n++;
        tick('BullMQ process', 1);
        if (n === o.jobs) {
          clearTimeout(timer);
          void worker.close().then(() => resolve(n));
        }
      });
      worker.on('failed', (_job, err) => reject(err));
    });
    const process = phase(processed, t0, performance.now(), procLat);
    await workerConn.quit();

    const one: number[] = [];
    t0 = performance.now();
    for (let k = 0; k < o.samples; k++) {
      const s = performance.now();
      await queue.add('j', data);
      one.push((performance.now() - s) * 1000);
      tick('BullMQ add 1×1', 1);
    }
    const pushLatency = phase(o.samples, t0, performance.now(), one);
    checkExactlyOnce(`BullMQ queue ${name}`, [pushed.toArray()], [done.toArray()]);
    return { version, push, process, pushLatency, exactlyOnce: true };
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close().catch(() => {});
    await conn.quit().catch(() => {});
  }
}
