import { errors } from '../base/errors.js';
import type { RestoreInput } from './api.js';
import { JobTable } from './job-table.js';
import { ACTIVE, CHILDREN, COMPLETED, DELAYED, FAILED, GONE, type Job, WAITING, idOf } from './job.js';
import { partitionOf } from './partition.js';
import { restorePartitions } from './restore.js';
import type { EngineState } from './state.js';
import { PARTITIONS } from './types.js';

/**
 * Partitions changing hands while the engine serves others (cluster mode): a node takes a
 * partition over by restoring its stored rows into the live engine, and gives one up by dropping
 * every piece of its state. Neither records changes: the rows stay where the next owner reads them.
 */

/** What the engine still holds, counted (tests check that a dropped partition leaves nothing). */
export interface Footprint {
  partitions: number;
  jobs: number;
  queues: number;
  crons: number;
  retained: number;
  /** entries in the delay, ttl and timeout heaps (stale ones included) */
  timers: number;
  leases: number;
  remoteWaits: number;
}

function maskOf(parts: readonly number[]): Uint8Array {
  const mask = new Uint8Array(PARTITIONS);
  for (const p of parts) {
    if (!Number.isInteger(p) || p < 0 || p >= PARTITIONS) throw errors.internal(`partition ${p} is out of range`);
    mask[p] = 1;
  }
  return mask;
}

/**
 * Start serving `parts` (none of them held now) with their stored state: jobs, queues and their
 * settings, crons, sequences, dependencies. What restoring decides (leases held when the previous
 * owner lost the partition are failed back, children released…) is recorded as changes.
 */
export function adoptPartitions(c: EngineState, parts: readonly number[], input: RestoreInput, now: number): void {
  const mask = maskOf(parts);
  for (const p of parts) if (c.owns(p)) throw errors.internal(`partition ${p} is already held`);
  for (let p = 0; p < PARTITIONS; p++) {
    if (mask[p] !== 1) continue;
    c.tables[p] = new JobTable<Job>();
    c.seqs[p] = 0;
  }
  restorePartitions(c, mask, input, now);
}

/**
 * Before a planned move of `parts` (the lease is still held): every job active on them goes back
 * to waiting with its delivery uncounted (EngineState.returnLease), recorded as changes, so the
 * next owner loads them waiting instead of failing their leases back as lost. Returns how many.
 */
export function returnLeases(c: EngineState, parts: readonly number[]): number {
  const mask = maskOf(parts);
  const active: Job[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const table = mask[p] === 1 ? c.tables[p] : undefined;
    if (table === undefined) continue;
    for (const job of table.values()) if (job.st === ACTIVE) active.push(job);
  }
  for (const job of active) c.returnLease(job);
  return active.length;
}

/**
 * Stop serving `parts` (those not held are skipped): every job, queue, cron, timer entry, lease,
 * unique key and dependency link of theirs goes, and the turn's recorded changes of them are
 * forgotten. Local children of a dropped parent keep waiting on it as on a remote parent.
 * Returns the number of jobs dropped.
 */
export function dropPartitions(c: EngineState, parts: readonly number[]): number {
  const gone = maskOf(parts);
  let dropped = 0;
  const orphans: Array<[Job, number]> = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const table = gone[p] === 1 ? c.tables[p] : undefined;
    if (table === undefined) {
      gone[p] = 0;
      continue;
    }
    for (const job of table.values()) {
      dropped++;
      switch (job.st) {
        case WAITING:
          c.stats.queued--;
          break;
        case DELAYED:
          c.stats.delayed--;
          break;
        case CHILDREN:
          c.stats.delayed--;
          break;
        case ACTIVE:
          c.dropLease(job);
          c.stats.processing--;
          break;
        case COMPLETED:
          c.retention.remove(job);
          break;
        case FAILED:
          c.stats.dlq--;
          c.retention.remove(job);
          break;
      }
      const children = job.x?.children;
      if (children != null) for (const child of children) orphans.push([child, idOf(job)]);
    }
    // every job of the partition leaves at once: marking them first lets the orphan pass below
    // tell children that stay from children that go
    for (const job of table.values()) job.st = GONE;
    c.tables[p] = undefined;
    c.seqs[p] = 0;
  }
  for (const [child, parentId] of orphans) if (child.st === CHILDREN) c.deps.awaitRemote(child, parentId);
  c.deps.forgetGone();
  for (const [name, q] of c.queues) {
    if (gone[q.partition] !== 1) continue;
    c.queues.delete(name);
    c.rateWaiters.delete(q);
  }
  c.crons.deleteWhere((cron) => gone[partitionOf(cron.queue)] === 1);
  for (const [owner, list] of c.leases) if (list.length === 0) c.leases.delete(owner);
  if (dropped > 0) {
    // the heap entries of dropped jobs are stale now: reclaim them at once, not when they come due
    c.delays.compact();
    c.expiries.compact();
    c.timeouts.compact();
  }
  if (c.persist) c.changes.forgetPartitions(gone);
  return dropped;
}

export function footprint(c: EngineState): Footprint {
  let partitions = 0;
  let jobs = 0;
  for (const t of c.tables) {
    if (t === undefined) continue;
    partitions++;
    jobs += t.size;
  }
  let leases = 0;
  for (const list of c.leases.values()) leases += list.length;
  let remoteWaits = 0;
  for (const list of c.deps.remoteWaits.values()) remoteWaits += list.length;
  return {
    partitions,
    jobs,
    queues: c.queues.size,
    crons: c.crons.size,
    retained: c.retention.size,
    timers: c.delays.size + c.expiries.size + c.timeouts.size,
    leases,
    remoteWaits,
  };
}
