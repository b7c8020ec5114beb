/**
 * Load functions of the BullMQ scenarios, run in load threads like the flashQ ones. ioredis is
 * loaded at run time (BullMQ 6 takes the Redis client as a peer dependency); the connection is
 * passed to BullMQ as an instance, as its docs recommend for shared connections.
 */
import { Queue, Worker } from 'bullmq';
import { IdLog } from './lib/delivery.js';
import type { Ready } from './lib/pool.js';
import { payload } from './lib/raw.js';
import { now } from './lib/stats.js';

export interface BullParams {
  redisPort: number;
  queue: string;
  n: number;
  bytes: number;
  batch: number;
  inFlight: number;
  concurrency?: number;
  deadline: number;
  counter?: Int32Array;
  total?: number;
}

export interface BullResult {
  ops: number;
  t0: number;
  t1: number;
  lat?: Float64Array;
  pushed: Float64Array;
  done: Float64Array;
  /** jobs waiting in the queue at the end (push-only loads) */
  waiting?: number;
  /** wait + active + failed at the end (worker loads) */
  left?: number;
}

// a variable specifier keeps tsc from requiring ioredis's typings at build time
const ioredisName = 'ioredis';
type RedisCtor = new (opts: object) => { quit(): Promise<unknown>; disconnect(): void };
async function redis(p: BullParams) {
  const mod = (await import(ioredisName)) as { default: RedisCtor };
  return new mod.default({ host: '127.0.0.1', port: p.redisPort, maxRetriesPerRequest: null });
}

function overdue(what: string, p: BullParams): void {
  if (Date.now() > p.deadline) throw new Error(`${what}: not finished by the deadline`);
}

async function openQueue(p: BullParams) {
  const connection = await redis(p);
  const queue = new Queue(p.queue, { connection: connection as never });
  await queue.waitUntilReady();
  return {
    queue,
    async close() {
      await queue.close();
      await connection.quit();
    },
  };
}

async function addBulkLoop(queue: Queue, p: BullParams, pushed: IdLog): Promise<void> {
  const data = payload(p.bytes);
  const jobs = Array.from({ length: p.batch }, () => ({ name: 'j', data }));
  const batches = Math.ceil(p.n / p.batch);
  let next = 0;
  const loop = async () => {
    while (next < batches) {
      next++;
      for (const j of await queue.addBulk(jobs)) pushed.add(Number(j.id));
      overdue('addBulk', p);
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, loop));
}

/** Timed addBulk; the jobs stay waiting (checked by count, then flushed by the step). */
export async function addBulk(p: BullParams, ready: Ready): Promise<BullResult> {
  const q = await openQueue(p);
  const pushed = new IdLog(p.n);
  await ready();
  const t0 = now();
  await addBulkLoop(q.queue, p, pushed);
  const t1 = now();
  const waiting = await q.queue.getWaitingCount();
  await q.close();
  return { ops: pushed.length, t0, t1, pushed: pushed.toArray(), done: new Float64Array(0), waiting };
}

/** Sequential add, one in flight: each add's round trip. */
export async function addSeq(p: BullParams, ready: Ready): Promise<BullResult> {
  const q = await openQueue(p);
  const pushed = new IdLog(p.n + 1024);
  const lat = new Float64Array(p.n);
  const data = payload(p.bytes);
  const warm = Math.min(1000, p.n >> 3);
  for (let i = 0; i < warm; i++) pushed.add(Number((await q.queue.add('j', data)).id));
  await ready();
  const t0 = now();
  for (let i = 0; i < p.n; i++) {
    const s = performance.now();
    pushed.add(Number((await q.queue.add('j', data)).id));
    lat[i] = (performance.now() - s) * 1000;
    if ((i & 1023) === 0) overdue('add', p);
  }
  const t1 = now();
  const waiting = await q.queue.getWaitingCount();
  await q.close();
  return { ops: p.n, t0, t1, lat, pushed: pushed.toArray(), done: new Float64Array(0), waiting };
}

/** Single adds with `p.inFlight` in flight. */
export async function addPipelined(p: BullParams, ready: Ready): Promise<BullResult> {
  const q = await openQueue(p);
  const pushed = new IdLog(p.n);
  const data = payload(p.bytes);
  let next = 0;
  await ready();
  const t0 = now();
  const loop = async () => {
    while (next < p.n) {
      next++;
      pushed.add(Number((await q.queue.add('j', data)).id));
      if ((next & 1023) === 0) overdue('add', p);
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, loop));
  const t1 = now();
  const waiting = await q.queue.getWaitingCount();
  await q.close();
  return { ops: p.n, t0, t1, pushed: pushed.toArray(), done: new Float64Array(0), waiting };
}

/** A BullMQ Worker with a no-op processor over a queue filled off the clock. */
export async function workerRun(p: BullParams, ready: Ready): Promise<BullResult> {
  const q = await openQueue(p);
  const pushed = new IdLog(p.n);
  await addBulkLoop(q.queue, { ...p, batch: 1000, inFlight: 4 }, pushed);
  const done = new IdLog(p.n);
  const total = p.total ?? p.n;
  const counter = p.counter ?? new Int32Array(new SharedArrayBuffer(4));
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => ((finish = res), (fail = rej)));
  const connection = await redis(p);
  const worker = new Worker(
    p.queue,
    async (job) => {
      done.add(Number(job.id));
      if (Atomics.add(counter, 0, 1) + 1 >= total) finish();
    },
    { connection: connection as never, concurrency: p.concurrency ?? 1, autorun: false },
  );
  worker.on('error', (e) => fail(e));
  const poll = setInterval(() => {
    if (Atomics.load(counter, 0) >= total) finish();
    if (Date.now() > p.deadline) fail(new Error('BullMQ Worker: not finished by the deadline'));
  }, 5);
  await ready();
  const t0 = now();
  void worker.run().catch((e: Error) => fail(e));
  try {
    await finished;
  } finally {
    clearInterval(poll);
  }
  const t1 = now();
  await worker.close();
  const counts = await q.queue.getJobCounts('wait', 'active', 'failed', 'delayed');
  await connection.quit();
  await q.close();
  const left = Object.values(counts).reduce((a, b) => a + b, 0);
  return { ops: done.length, t0, t1, pushed: pushed.toArray(), done: done.toArray(), left };
}

/** add→processor-start latency, one job at a time, Worker concurrency 1. */
export async function e2eLatency(p: BullParams, ready: Ready): Promise<BullResult> {
  const q = await openQueue(p);
  const pushed = new IdLog(p.n + 256);
  const done = new IdLog(p.n + 256);
  const lat = new Float64Array(p.n);
  const warm = Math.min(200, p.n >> 3);
  let sentAt = 0;
  let last = 0;
  let handled: (() => void) | null = null;
  const connection = await redis(p);
  const worker = new Worker(
    p.queue,
    async (job) => {
      last = (performance.now() - sentAt) * 1000;
      done.add(Number(job.id));
      const h = handled;
      handled = null;
      h?.();
    },
    { connection: connection as never, concurrency: 1 },
  );
  await worker.waitUntilReady();
  const data = payload(p.bytes);
  const one = async (): Promise<number> => {
    const seen = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('add→processor: a job was not processed within 5 s')), 5000);
      handled = () => {
        clearTimeout(timer);
        res();
      };
    });
    sentAt = performance.now();
    pushed.add(Number((await q.queue.add('j', data)).id));
    await seen;
    return last;
  };
  for (let i = 0; i < warm; i++) await one();
  await ready();
  const t0 = now();
  for (let i = 0; i < p.n; i++) {
    lat[i] = await one();
    overdue('add→processor', p);
  }
  const t1 = now();
  await worker.close();
  await connection.quit();
  await q.close();
  return { ops: p.n, t0, t1, lat, pushed: pushed.toArray(), done: done.toArray() };
}
