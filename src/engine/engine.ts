import { errors } from '../base/errors.js';
import type { EngineApi, EngineOptions, RestoreInput } from './api.js';
import { listJobs } from './browse.js';
import { CONNECTION_LOST, EngineState } from './state.js';
import { nextRunAfter } from './cron-schedule.js';
import { ACTIVE, COMPLETED, FAILED, JobRef, STATE_NAMES, extraOf, idOf, keyOf } from './job.js';
import { isValidName, validateQueueName } from './names.js';
import { partitionOf } from './partition.js';
import { pushJobs } from './push.js';
import type { Queue } from './queue.js';
import { TokenBucket } from './rate-limit.js';
import { restore } from './restore.js';
import { adoptPartitions, dropPartitions, footprint, type Footprint, returnLeases } from './handover.js';
import { nextDue, promoteDue, tick } from './timers.js';
import type {
  Changes,
  Counters,
  CronView,
  Effects,
  JobFilterState,
  JobInput,
  JobState,
  JobView,
  ParentStatus,
  QueueInfo,
  Stats,
} from './types.js';

/**
 * The queue engine (see api.ts for the contract). Commands validate everything first and then
 * apply through the transitions of `EngineState`, so a command that throws has changed nothing.
 * Views returned are live (they read the job's current state); `snapshotJob` copies one.
 */
export class Engine implements EngineApi {
  private readonly c: EngineState;

  constructor(opts: EngineOptions) {
    this.c = new EngineState(opts);
  }

  // ---- producers ----

  push(queue: string, jobs: JobInput[], now: number, remoteParents?: ReadonlyMap<number, ParentStatus>): JobView[] {
    return pushJobs(this.c, queue, jobs, now, remoteParents);
  }

  remoteParentsOf(jobs: readonly JobInput[]): number[] {
    let out: Set<number> | null = null;
    // indexed loops: for…of made an iterator per job (this runs for every PUSHB job)
    for (let i = 0; i < jobs.length; i++) {
      const deps = jobs[i]!.dependsOn;
      for (let k = 0; k < deps.length; k++) {
        const id = deps[k]!;
        if (Number.isSafeInteger(id) && id > 0 && !this.c.isLocalId(id)) (out ??= new Set()).add(id);
      }
    }
    return out === null ? [] : [...out];
  }

  // ---- workers ----

  pull(queue: string, count: number, now: number, owner: number): JobView[] {
    const c = this.c;
    const q = c.queues.get(queue);
    if (q === undefined) return [];
    promoteDue(c, now);
    if (q.paused || q.waiting === 0) return [];
    let n = count;
    if (q.concurrency > 0 && q.concurrency - q.active < n) n = q.concurrency - q.active;
    let rateBound = false;
    if (q.rate !== null) {
      const tokens = q.rate.available(now);
      if (tokens < n) {
        n = tokens;
        rateBound = true;
      }
    }
    if (n <= 0) {
      if (rateBound) this.awaitTokens(q);
      return [];
    }
    const out: JobView[] = [];
    while (out.length < n) {
      const job = q.ready.pop();
      if (job === null) break;
      if (job.opts.ttl > 0 && now >= job.created + job.opts.ttl) {
        c.expire(job, now);
        continue;
      }
      c.deliver(job, now, owner);
      out.push(new JobRef(job));
    }
    if (q.rate !== null) q.rate.take(out.length);
    if (rateBound && q.waiting > 0) this.awaitTokens(q);
    return out;
  }

  private awaitTokens(q: Queue): void {
    this.c.rateWaiters.add(q);
  }

  pullBlock(queue: string, now: number): 'paused' | 'rate_limited' | null {
    const q = this.c.queues.get(queue);
    if (q === undefined) return null;
    if (q.paused) return 'paused';
    if (q.rate !== null && q.rate.available(now) < 1) return 'rate_limited';
    return null;
  }

  ack(id: number, result: string | null, now: number): void {
    const job = this.c.find(id);
    if (job === undefined || job.st !== ACTIVE) throw errors.jobNotFound(id);
    this.c.complete(job, result, now);
  }

  ackBatch(ids: readonly number[], now: number): number {
    const c = this.c;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const job = c.find(ids[i]!);
      if (job === undefined || job.st !== ACTIVE) continue;
      c.complete(job, null, now);
      n++;
    }
    return n;
  }

  fail(id: number, error: string | null, now: number): void {
    const job = this.c.find(id);
    if (job === undefined || job.st !== ACTIVE) throw errors.jobNotFound(id);
    this.c.failAttempt(job, error, now);
  }

  releaseOwner(owner: number, now: number): number {
    const c = this.c;
    const list = c.leases.get(owner);
    if (list === undefined) return 0;
    c.leases.delete(owner);
    const jobs = list; // detached above: failing them back does not touch it
    for (const job of jobs) c.failAttempt(job, CONNECTION_LOST, now);
    return jobs.length;
  }

  progress(id: number, progress: number, message: string | null, now: number): void {
    const c = this.c;
    const job = c.find(id);
    if (job === undefined || job.st !== ACTIVE) throw errors.jobNotProcessing(id);
    const p = Number.isFinite(progress) ? Math.min(100, Math.max(0, Math.trunc(progress))) : 0;
    const x = extraOf(job);
    x.progress = p;
    x.progressMsg = message;
    if (c.persist) c.changes.update(job);
    if (c.fx.eventsOn) c.fx.event('job.progress', job.q, idOf(job), now, message === null ? null : JSON.stringify(message), null, p);
  }

  // ---- lookups ----

  getJob(id: number): JobView | null {
    const job = this.c.find(id);
    return job === undefined ? null : new JobRef(job);
  }

  getState(id: number): JobState {
    const job = this.c.find(id);
    return job === undefined ? 'unknown' : STATE_NAMES[job.st]!;
  }

  getResult(id: number): string | null {
    const job = this.c.find(id);
    if (job === undefined) throw errors.jobNotFound(id);
    return job.x === null ? null : job.x.result;
  }

  getProgress(id: number): { progress: number; message: string | null } {
    const job = this.c.find(id);
    if (job === undefined) throw errors.jobNotFound(id);
    const x = job.x;
    return x === null ? { progress: 0, message: null } : { progress: x.progress, message: x.progressMsg };
  }

  listJobs(filter: { queue?: string; state?: JobFilterState }, limit: number, offset: number): JobView[] {
    return listJobs(this.c, filter, limit, offset);
  }

  // ---- management ----

  cancel(id: number, now: number): void {
    const job = this.c.find(id);
    if (job === undefined) throw errors.jobNotFound(id);
    if (job.st === ACTIVE) throw errors.jobActive(id);
    if (job.st === COMPLETED || job.st === FAILED) throw errors.jobNotFoundFinished(id);
    this.c.cancel(job, now);
  }

  dlq(queue: string, count: number): JobView[] {
    const q = this.c.queues.get(queue);
    if (q === undefined || count <= 0) return [];
    const out: JobView[] = [];
    for (const job of q.dlq) {
      out.push(new JobRef(job));
      if (out.length >= count) break;
    }
    return out;
  }

  retryDlq(queue: string, id: number | null, now: number): number {
    const c = this.c;
    const q = c.queues.get(queue);
    if (q === undefined) return 0;
    if (id !== null) {
      const job = c.find(id);
      if (job === undefined || job.q !== q || job.st !== FAILED) return 0;
      const key = keyOf(job);
      const holder = key === null ? undefined : c.keyHolder(q, key);
      if (holder !== undefined && holder !== job) throw errors.duplicate(key!);
      c.revive(job, now);
      return 1;
    }
    let n = 0;
    for (const job of [...q.dlq]) {
      const key = keyOf(job);
      const holder = key === null ? undefined : c.keyHolder(q, key);
      // its key went to a newer job meanwhile (released at ttl expiry): it stays in the DLQ
      if (holder !== undefined && holder !== job) continue;
      c.revive(job, now);
      n++;
    }
    return n;
  }

  pause(queue: string): void {
    validateQueueName(queue);
    const q = this.c.queue(queue);
    if (q.paused) return;
    q.paused = true;
    this.c.settingsChanged(q);
  }

  resume(queue: string): void {
    validateQueueName(queue);
    const q = this.c.queues.get(queue);
    if (q === undefined || !q.paused) return;
    q.paused = false;
    this.c.settingsChanged(q);
  }

  setRateLimit(queue: string, perSecond: number, now: number): void {
    validateQueueName(queue);
    if (!Number.isFinite(perSecond) || perSecond <= 0) throw errors.badRequest('Rate limit must be a positive number');
    const q = this.c.queue(queue);
    q.rate = new TokenBucket(perSecond, now);
    this.c.settingsChanged(q);
  }

  clearRateLimit(queue: string): void {
    validateQueueName(queue);
    const q = this.c.queues.get(queue);
    if (q === undefined || q.rate === null) return;
    q.rate = null;
    this.c.rateWaiters.delete(q);
    this.c.settingsChanged(q);
  }

  setConcurrency(queue: string, limit: number): void {
    validateQueueName(queue);
    if (!Number.isSafeInteger(limit) || limit <= 0) throw errors.badRequest('Concurrency limit must be a positive integer');
    const q = this.c.queue(queue);
    q.concurrency = limit;
    this.c.settingsChanged(q);
  }

  clearConcurrency(queue: string): void {
    validateQueueName(queue);
    const q = this.c.queues.get(queue);
    if (q === undefined || q.concurrency === 0) return;
    q.concurrency = 0;
    this.c.settingsChanged(q);
  }

  listQueues(): QueueInfo[] {
    return [...this.c.queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((q) => q.info());
  }

  stats(): Stats {
    return { ...this.c.stats };
  }

  counters(): Counters {
    return { ...this.c.counters };
  }

  // ---- cron ----

  cronUpsert(name: string, queue: string, schedule: string, data: string, priority: number, now: number): CronView {
    const c = this.c;
    if (!isValidName(name)) throw errors.badRequest(`Invalid cron name: ${JSON.stringify(String(name).slice(0, 64))}`);
    validateQueueName(queue);
    const nextRun = nextRunAfter(schedule, now, name);
    const old = c.crons.get(name);
    const q = c.queue(queue);
    q.crons++;
    c.crons.set({ name, queue, schedule, data, priority, nextRun });
    if (old !== undefined) this.releaseCronQueue(old.queue);
    const v: CronView = { name, queue, data, schedule, priority, nextRun };
    if (c.persist) {
      const from = old === undefined ? -1 : partitionOf(old.queue);
      c.changes.cronUpsert(v, from === q.partition ? -1 : from);
    }
    return v;
  }

  cronDelete(name: string): boolean {
    const c = this.c;
    const old = c.crons.delete(name);
    if (old === undefined) return false;
    this.releaseCronQueue(old.queue);
    if (c.persist) c.changes.cronDelete(name, partitionOf(old.queue));
    return true;
  }

  cronList(): CronView[] {
    return this.c.crons.list();
  }

  private releaseCronQueue(queue: string): void {
    const q = this.c.queues.get(queue);
    if (q === undefined) return;
    q.crons--;
    this.c.maybeForget(q);
  }

  // ---- dependencies across engines ----

  watchParent(parentId: number, watcherPartition: number): ParentStatus {
    return this.c.deps.watch(parentId, watcherPartition);
  }

  parentResolved(parentId: number, outcome: 'completed' | 'failed', now: number): void {
    this.c.deps.resolved(parentId, outcome, now);
  }

  pendingRemoteParents(): Array<{ parentId: number; partition: number; watcher: number }> {
    return this.c.deps.pending();
  }

  // ---- time ----

  tick(now: number): void {
    tick(this.c, now);
  }

  nextDue(): number {
    return nextDue(this.c);
  }

  // ---- outputs ----

  setEventsEnabled(on: boolean): void {
    this.c.fx.setEvents(on);
  }

  takeEffects(): Effects {
    return this.c.fx.take();
  }

  takeChanges(): Changes {
    if (this.c.persist) return this.c.changes.take();
    return {
      inserted: [],
      updated: [],
      deleted: [],
      retimed: [],
      queues: [],
      cronsUpserted: [],
      cronsDeleted: [],
      seqs: [],
      cronsFired: [],
      cronPartitions: [],
    };
  }

  // ---- recovery ----

  restore(input: RestoreInput, now: number): void {
    restore(this.c, input, now);
  }

  // ---- partitions changing hands (cluster mode) ----

  /** Start serving `partitions` (none held now) with their stored state (`input` may hold more). */
  adoptPartitions(partitions: readonly number[], input: RestoreInput, now: number): void {
    adoptPartitions(this.c, partitions, input, now);
  }

  /** Before `partitions` move (lease still held): their active jobs wait again, attempts uncounted. */
  returnLeases(partitions: readonly number[]): number {
    return returnLeases(this.c, partitions);
  }

  /** Stop serving `partitions`, freeing all their state; returns the number of jobs dropped. */
  dropPartitions(partitions: readonly number[]): number {
    return dropPartitions(this.c, partitions);
  }

  /** Partitions held now, ascending. */
  heldPartitions(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.c.tables.length; p++) if (this.c.owns(p)) out.push(p);
    return out;
  }

  /** What the engine holds, counted. */
  footprint(): Footprint {
    return footprint(this.c);
  }
}
