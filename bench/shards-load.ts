/**
 * Loads over several queues from one thread (one connection per queue), all starting together:
 * the shard sweep needs queues that land on different shards.
 */
import { IdLog } from './lib/delivery.js';
import type { LoadParams, LoadResult } from './lib/load.js';
import type { Ready } from './lib/pool.js';
import { drain, fill, rawPullAck, rawPushBatches } from './lib/raw-batch.js';

export interface MultiParams extends LoadParams {
  queues: string[];
}

/** A `before` hook for k loops: the last one to connect passes the barrier for all. */
function barrier(k: number, ready: Ready): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return async () => {
    if (++arrived === k) {
      await ready();
      open();
    }
    await opened;
  };
}

function merge(windows: [number, number][], pushed: Float64Array[], done: Float64Array[], ops: number): LoadResult {
  const cat = (xs: Float64Array[]) => Float64Array.from(xs.flatMap((x) => Array.from(x)));
  return { ops, t0: Math.min(...windows.map((w) => w[0])), t1: Math.max(...windows.map((w) => w[1])), pushed: cat(pushed), done: cat(done) };
}

export async function multiPush(p: MultiParams, ready: Ready): Promise<LoadResult> {
  const before = barrier(p.queues.length, ready);
  const logs = p.queues.map(() => new IdLog(p.n));
  const windows = await Promise.all(p.queues.map((queue, i) => rawPushBatches({ ...p, queue }, logs[i]!, before)));
  const done = await Promise.all(p.queues.map((queue) => drain({ ...p, queue })));
  const pushed = logs.map((l) => l.toArray());
  return merge(windows, pushed, done, pushed.reduce((a, x) => a + x.length, 0));
}

export async function multiPull(p: MultiParams, ready: Ready): Promise<LoadResult> {
  const pushed = await Promise.all(p.queues.map((queue) => fill({ ...p, queue })));
  const before = barrier(p.queues.length, ready);
  const logs = p.queues.map(() => new IdLog(p.n));
  const windows = await Promise.all(p.queues.map((queue, i) => rawPullAck({ ...p, queue, counter: undefined }, logs[i]!, before)));
  const done = logs.map((l) => l.toArray());
  return merge(windows, pushed, done, done.reduce((a, x) => a + x.length, 0));
}
