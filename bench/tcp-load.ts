/**
 * Load functions of the flashQ TCP scenarios, run in load threads (bench/lib/pool.ts). "raw" loads
 * write pre-encoded requests on a bare socket (bench/lib/raw.ts); "client" loads go through
 * FlashqClient / Worker as a user would. Every load logs the ids it pushed and processed; the
 * checks run on the main thread after the clock stops (bench/tcp.ts).
 */
import { FlashqClient } from '../src/client/index.js';
import { IdLog } from './lib/delivery.js';
import type { Ready } from './lib/pool.js';
import { drain, fill, rawPullAck, rawPushBatches } from './lib/raw-batch.js';
import { payload } from './lib/raw.js';
import { now } from './lib/stats.js';

export type { LoadParams, LoadResult } from './lib/load.js';
import type { LoadParams, LoadResult } from './lib/load.js';

async function clientPushBatches(p: LoadParams, pushed: IdLog): Promise<[number, number]> {
  const c = new FlashqClient({ port: p.port, framing: p.framing });
  await c.connect();
  const data = payload(p.bytes);
  const jobs = Array.from({ length: p.batch }, () => ({ data }));
  const batches = Math.ceil(p.n / p.batch);
  let next = 0;
  const t0 = now();
  const loop = async () => {
    while (next < batches) {
      next++;
      for (const id of await c.pushBatch(p.queue, jobs)) pushed.add(id);
      if (Date.now() > p.deadline) throw new Error('PUSHB: not finished by the deadline');
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, loop));
  const t1 = now();
  await c.close();
  return [t0, t1];
}

async function clientPullAck(p: LoadParams, doneIds: IdLog): Promise<[number, number]> {
  const c = new FlashqClient({ port: p.port, framing: p.framing });
  await c.connect();
  let stopping = false;
  const t0 = now();
  const loop = async () => {
    while (!stopping) {
      const jobs = await c.pullBatch(p.queue, p.batch, { timeout: 0 });
      if (jobs.length === 0 || Date.now() > p.deadline) break;
      if (p.counter && p.total && Atomics.add(p.counter, 0, jobs.length) + jobs.length >= p.total) stopping = true;
      const ids = jobs.map((j) => j.id);
      const n = await c.ackBatch(ids);
      if (n !== ids.length) throw new Error(`ACKB of ${ids.length} ids acknowledged ${n}`);
      for (const id of ids) doneIds.add(id);
    }
  };
  await Promise.all(Array.from({ length: p.inFlight }, loop));
  const t1 = now();
  await c.close();
  return [t0, t1];
}

/** Timed PUSHB; the queue is then drained off the clock to check delivery. */
export async function pushBatches(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const pushed = new IdLog(p.n);
  const done = new IdLog(p.n);
  let t: [number, number];
  if (p.mode === 'raw') t = await rawPushBatches(p, pushed, ready);
  else {
    await ready();
    t = await clientPushBatches(p, pushed);
  }
  for (const id of await drain(p)) done.add(id);
  return { ops: pushed.length, t0: t[0], t1: t[1], pushed: pushed.toArray(), done: done.toArray() };
}

/** The queue is filled off the clock; then timed PULLB+ACKB until it is empty. */
export async function pullAck(p: LoadParams, ready: Ready): Promise<LoadResult> {
  const pushed = new IdLog(p.n);
  const done = new IdLog(p.n);
  for (const id of await fill(p)) pushed.add(id);
  let t: [number, number];
  if (p.mode === 'raw') t = await rawPullAck(p, done, ready);
  else {
    await ready();
    t = await clientPullAck(p, done);
  }
  return { ops: done.length, t0: t[0], t1: t[1], pushed: pushed.toArray(), done: done.toArray() };
}
