import type { RestoreInput } from './api.js';
import { type JobRows, SEGMENT_MASK, STORED_STATES } from './job-rows.js';
import { CONNECTION_LOST, type EngineState, TTL_EXPIRED } from './state.js';
import { attemptsOf, backoffOf } from './job-defaults.js';
import type { Queue } from './queue.js';
import { ACTIVE, CHILDREN, COMPLETED, FAILED, type Job, extraOf, keyOf, newJob, setStamp } from './job.js';
import { isValidName } from './names.js';
import { partitionOf, partitionOfId, seqOfId } from './partition.js';
import { errors } from '../base/errors.js';
import { TokenBucket } from './rate-limit.js';
import { PARTITIONS } from './types.js';

const COMPLETED_ROW = STORED_STATES.indexOf('completed');
const FAILED_ROW = STORED_STATES.indexOf('failed');

/**
 * Load stored state into an empty engine. Loading itself records no changes; what recovery then
 * decides (leases lost while down, children released or failed, retention trimmed) does.
 */
export function restore(c: EngineState, input: RestoreInput, now: number): void {
  const mask = new Uint8Array(PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) if (c.owns(p)) mask[p] = 1;
  restorePartitions(c, mask, input, now);
}

/**
 * Load the stored state of the partitions marked in `mask` (held, with empty tables) into the
 * engine, which may be serving other partitions meanwhile: a cluster shard taking partitions
 * over restores them exactly as a start would. Rows of other partitions in `input` are ignored.
 */
export function restorePartitions(c: EngineState, mask: Uint8Array, input: RestoreInput, now: number): void {
  for (const { partition, seq } of input.seqs) {
    if (mask[partition] === 1 && seq > c.seqs[partition]!) c.seqs[partition] = seq;
  }
  for (const s of input.queues) {
    if (!isValidName(s.name) || mask[partitionOf(s.name)] !== 1) continue;
    const q = c.queue(s.name, true);
    q.paused = s.paused;
    q.rate = s.rateLimit !== null && s.rateLimit > 0 ? new TokenBucket(s.rateLimit, now) : null;
    q.concurrency = s.concurrencyLimit !== null && s.concurrencyLimit > 0 ? s.concurrencyLimit : 0;
  }

  const rows = input.jobs;
  const order = rowOrder(rows, mask);
  const namePartition = rows.names.map((name) => partitionOf(name));
  const queues: Array<Queue | undefined> = [];
  const waiting: Job[] = [];
  const children: Job[] = [];
  const lost: Job[] = [];
  const finished: Job[] = [];
  const live: Job[] = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const g = rows.segmentOf(i);
    const j = i & SEGMENT_MASK;
    const id = g.id[j]!;
    const p = partitionOfId(id);
    const qi = g.queue[j]!;
    if (namePartition[qi] !== p) throw errors.internal(`stored job ${id} of queue ${rows.queueOf(i)} is in the wrong partition`);
    const q = queues[qi] ?? (queues[qi] = c.queue(rows.names[qi]!, true));
    const seq = seqOfId(id);
    if (seq > c.seqs[p]!) c.seqs[p] = seq;
    const o = c.opts.get(g.priority[j]!, g.lifo[j] === 1, attemptsOf(g.maxAttempts[j]!), backoffOf(g.backoff[j]!), Math.max(0, g.ttl[j]!), Math.max(0, g.timeout[j]!));
    const created = g.created[j]!;
    const runAt = g.runAt[j]!;
    const data = rows.data[i]!;
    const job = typeof data === 'string'
      ? newJob(seq, q, data, 0, 0, o, created, runAt - created, g.attempts[j]!)
      : newJob(seq, q, data, g.ds[j]!, g.de[j]!, o, created, runAt - created, g.attempts[j]!);
    const extra = rows.extras.get(i);
    const progress = g.progress[j]!;
    if (extra !== undefined || progress !== 0) {
      const x = extraOf(job);
      x.progress = progress;
      if (extra !== undefined) {
        x.uniqueKey = extra.uniqueKey;
        x.dependsOn = Object.freeze([...new Set(extra.dependsOn)]);
        x.tags = Object.freeze(extra.tags.slice());
        x.progressMsg = extra.progressMsg;
        x.result = extra.result;
        x.error = extra.error;
      }
    }
    c.tables[p]!.set(seq, job);
    q.jobs++;
    const state = STORED_STATES[g.state[j]!]!;
    const undelivered = state === 'waiting' || state === 'delayed' || state === 'waiting-children';
    if (undelivered || state === 'active') {
      live.push(job);
      // an active one is about to be failed back and may be retried: its ttl still counts
      if (o.ttl > 0) c.expiries.push(job.created + o.ttl, job);
    }
    switch (state) {
      case 'waiting':
        waiting.push(job);
        break;
      case 'delayed':
        c.enterDelayed(job, runAt);
        break;
      case 'waiting-children':
        c.enterChildren(job);
        children.push(job);
        break;
      case 'active':
        job.st = ACTIVE;
        setStamp(job, g.startedAt[j]! - created);
        q.active++;
        c.stats.processing++;
        lost.push(job);
        break;
      case 'completed':
      case 'failed':
        // the finish time until the retention order is settled below
        setStamp(job, g.finishedAt[j]! - created);
        job.st = state === 'completed' ? COMPLETED : FAILED;
        finished.push(job);
        break;
    }
  }

  // ready order within a queue: arrival at the ready queue (run time), then push order
  if (!inRunOrder(waiting)) waiting.sort((a, b) => a.created + a.run - (b.created + b.run) || a.seq - b.seq);
  for (const job of waiting) c.enterReady(job);
  finished.sort((a, b) => a.created + a.stamp - (b.created + b.stamp) || a.seq - b.seq);
  for (const job of finished) {
    if (job.st === FAILED) {
      job.q.dlq.add(job);
      c.stats.dlq++;
    }
    c.retention.add(job);
  }

  // unique keys: live jobs first, then DLQ entries whose key was not released at ttl expiry
  for (const job of live) claimIfFree(c, job);
  for (const job of finished) if (job.st === FAILED && job.x?.error !== TTL_EXPIRED) claimIfFree(c, job);

  // dependency links, then what they decide
  const failedParent = new Map<Job, number>();
  for (const child of children) {
    for (const pid of child.x!.dependsOn) {
      if (!c.isLocalId(pid)) {
        c.deps.waitOn(child, pid, undefined);
        continue;
      }
      const parent = c.find(pid);
      // a parent gone from the store was completed and evicted (a cancel would have failed the child)
      if (parent === undefined || parent.st === COMPLETED) continue;
      if (parent.st === FAILED) {
        if (!failedParent.has(child)) failedParent.set(child, pid);
        continue;
      }
      c.deps.waitOn(child, pid, parent);
    }
  }
  for (const child of children) {
    if (child.st !== CHILDREN) continue;
    const pid = failedParent.get(child);
    if (pid !== undefined) {
      c.leave(child);
      c.toDlq(child, `Dependency ${pid} failed`, now, false);
    } else if (child.x === null || child.x.waitingOn === 0) {
      c.leave(child);
      c.enterRunnable(child, now);
      if (c.persist) c.changes.update(child);
    }
  }

  // leases held when the server stopped are lost: the attempt was spent
  for (const job of lost) if (job.st === ACTIVE) c.failAttempt(job, CONNECTION_LOST, now, true);

  while (c.retention.over()) {
    const old = c.retention.evictOne();
    if (old !== null) c.evict(old);
  }

  for (const cr of input.crons) {
    if (!isValidName(cr.name) || !isValidName(cr.queue) || mask[partitionOf(cr.queue)] !== 1) continue;
    const q = c.queue(cr.queue, true);
    q.crons++;
    const old = c.crons.set({ name: cr.name, queue: cr.queue, schedule: cr.schedule, data: cr.data, priority: cr.priority, nextRun: cr.nextRun });
    if (old !== undefined) {
      const oq = c.queues.get(old.queue)!;
      oq.crons--;
      c.maybeForget(oq);
    }
  }

  for (let p = 0; p < PARTITIONS; p++) if (mask[p] === 1) c.tables[p]?.settle();
  for (const q of [...c.queues.values()]) if (mask[q.partition] === 1) c.maybeForget(q);
}

/**
 * Indexes of the rows of `mask`'s partitions with each queue's live rows in id order, that is push
 * order (how queues interleave does not matter, and finished rows are ordered by finish time
 * later). The store reads rows in heap order (an ORDER BY made PostgreSQL sort before sending the
 * first row, and the reload waited on that); a queue's rows mostly arrive in push order already,
 * and otherwise all are sorted by id here.
 */
function rowOrder(rows: JobRows, mask: Uint8Array): Int32Array {
  let n = 0;
  const order = new Int32Array(rows.count);
  const lastOf = new Float64Array(rows.names.length).fill(-1);
  let sorted = true;
  for (let i = 0; i < rows.count; i++) {
    const g = rows.segmentOf(i);
    const k = i & SEGMENT_MASK;
    const id = g.id[k]!;
    if (mask[partitionOfId(id)] !== 1) continue;
    order[n++] = i;
    if (g.state[k]! === COMPLETED_ROW || g.state[k]! === FAILED_ROW) continue;
    const q = g.queue[k]!;
    if (id < lastOf[q]!) sorted = false;
    lastOf[q] = id;
  }
  const mine = order.subarray(0, n);
  if (!sorted) sortById(rows, mine);
  return mine;
}

/**
 * Sort row indexes by id. When (id − min) · n + slot stays an exact double, each row becomes one
 * number and the typed array's native sort does the work (1M rows: ~0.1 s, a comparator sort ~1 s);
 * otherwise (ids far apart, e.g. a job delayed for years beside today's) the comparator sort.
 */
function sortById(rows: JobRows, mine: Int32Array): void {
  const n = mine.length;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const id = rows.id(mine[k]!);
    if (id < min) min = id;
    if (id > max) max = id;
  }
  if ((max - min + 1) * n > Number.MAX_SAFE_INTEGER) {
    mine.set(Array.from(mine).sort((a, b) => rows.id(a) - rows.id(b)));
    return;
  }
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) keys[k] = (rows.id(mine[k]!) - min) * n + k;
  keys.sort();
  const was = mine.slice();
  for (let k = 0; k < n; k++) mine[k] = was[keys[k]! % n]!;
}

/**
 * Waiting jobs in push order are usually in run-time order too (pushed with no delay). Only the
 * order within a queue matters: each queue has its own ready order.
 */
function inRunOrder(jobs: readonly Job[]): boolean {
  const last = new Map<Queue, Job>();
  for (let i = 0; i < jobs.length; i++) {
    const b = jobs[i]!;
    const a = last.get(b.q);
    last.set(b.q, b);
    if (a === undefined) continue;
    const d = a.created + a.run - (b.created + b.run);
    if (d > 0 || (d === 0 && a.seq > b.seq)) return false;
  }
  return true;
}

function claimIfFree(c: EngineState, job: Job): void {
  const key = keyOf(job);
  if (key !== null && c.keyHolder(job.q, key) === undefined) c.claimKey(job);
}
