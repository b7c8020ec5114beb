import type { EngineState } from './state.js';
import type { Queue } from './queue.js';
import { GONE, type Job, idOf, stateCode, viewOf } from './job.js';
import type { JobFilterState, JobView } from './types.js';

/**
 * The job browser: newest first (created_at desc, then id desc). Not a hot path: it walks the
 * jobs of the partition in question (or all) and keeps only the best offset+limit candidates.
 */
export function listJobs(c: EngineState, filter: { queue?: string; state?: JobFilterState }, limit: number, offset: number): JobView[] {
  const lim = Math.max(0, Math.floor(limit));
  const off = Math.max(0, Math.floor(offset));
  if (lim === 0) return [];
  const want = off + lim;
  const st = filter.state === undefined || filter.state === null ? -1 : stateCode(filter.state);
  if (st === GONE) return [];
  let q: Queue | null = null;
  if (filter.queue !== undefined && filter.queue !== null) {
    const found = c.queues.get(filter.queue);
    if (found === undefined) return [];
    q = found;
  }
  const tables = q === null ? c.tables : [c.tables[q.partition]];
  let best: Job[] = [];
  for (const t of tables) {
    if (t === undefined) continue;
    for (const job of t.values()) {
      if ((q !== null && job.q !== q) || (st >= 0 && job.st !== st)) continue;
      best.push(job);
      if (best.length >= 2 * want + 1024) best = best.sort(newestFirst).slice(0, want);
    }
  }
  return best.sort(newestFirst).slice(off, want).map(viewOf);
}

function newestFirst(a: Job, b: Job): number {
  return b.created - a.created || idOf(b) - idOf(a);
}
