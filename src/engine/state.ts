import { errors } from '../base/errors.js';
import { ChangeLog } from './changes.js';
import { CronTable } from './cron-table.js';
import { DelayHeap } from './delay-heap.js';
import { Dependencies } from './dependencies.js';
import { EffectLog } from './effects.js';
import { JobTable } from './job-table.js';
import {
  ACTIVE,
  CHILDREN,
  COMPLETED,
  DELAYED,
  FAILED,
  GONE,
  type Job,
  OptsCache,
  WAITING,
  extraOf,
  idOf,
  jobText,
  keyOf,
  ownText,
  setLastError,
  setRun,
  setStamp,
} from './job.js';
import { Queue } from './queue.js';
import { Retention } from './retention.js';
import type { EngineOptions } from './api.js';
import { PARTITIONS, type Counters, type Stats } from './types.js';
import { partitionOf } from './partition.js';

export const TTL_EXPIRED = 'TTL expired';
export const TIMED_OUT = 'Job timed out';
export const CONNECTION_LOST = 'worker connection lost';
/** retry back-off doubles per attempt up to 2^10 times the base */
const MAX_BACKOFF_EXPONENT = 10;

function isLive(st: number): boolean {
  return st === WAITING || st === DELAYED || st === CHILDREN || st === ACTIVE;
}

/**
 * The engine's state and every transition of a job between states. Each transition keeps the
 * counters, indexes, timers, unique keys, changes and effects in step, so commands (engine.ts)
 * only validate and then call these.
 */
export class EngineState {
  readonly maxQueues: number;
  readonly persist: boolean;

  /** id lookup, one table per owned partition (undefined for the others) */
  readonly tables: (JobTable<Job> | undefined)[] = [];
  /** last sequence used per partition */
  readonly seqs: number[] = [];
  readonly queues = new Map<string, Queue>();
  readonly opts = new OptsCache();
  readonly retention: Retention<Job>;
  /** delayed jobs by run time */
  readonly delays = new DelayHeap<Job>((t, j) => j.st === DELAYED && j.created + j.run === t);
  /** ttl deadlines of jobs not yet finished (acted on only while undelivered) */
  readonly expiries = new DelayHeap<Job>((t, j) => isLive(j.st) && j.created + j.opts.ttl === t);
  /** deadlines of active jobs with a timeout */
  readonly timeouts = new DelayHeap<Job>((t, j) => j.st === ACTIVE && j.created + j.stamp + j.opts.timeout === t);
  readonly crons = new CronTable();
  /** active jobs per lease owner (swap-remove through job.pos) */
  readonly leases = new Map<number, Job[]>();
  /** queues whose pull was refused by the rate limit */
  readonly rateWaiters = new Set<Queue>();
  readonly deps = new Dependencies(this);

  /** only written when `persist` (every call site checks it first) */
  readonly changes: ChangeLog;
  readonly fx = new EffectLog();
  readonly stats: Stats = { queued: 0, processing: 0, delayed: 0, dlq: 0 };
  readonly counters: Counters = { totalPushed: 0, totalCompleted: 0, totalFailed: 0, latencySumMs: 0 };

  constructor(opts: EngineOptions) {
    this.maxQueues = opts.maxQueues;
    this.persist = opts.persist;
    this.changes = new ChangeLog();
    this.retention = new Retention<Job>(Math.max(0, opts.keepCompleted));
    for (let p = 0; p < PARTITIONS; p++) {
      this.tables.push(opts.owns(p) ? new JobTable<Job>() : undefined);
      this.seqs.push(0);
    }
  }

  // ---- lookup ----

  /** Whether this engine holds the partition now (a cluster shard gains and drops partitions). */
  owns(p: number): boolean {
    return this.tables[p] !== undefined;
  }

  find(id: number): Job | undefined {
    if (!(id > 0) || !Number.isSafeInteger(id)) return undefined;
    const p = id % PARTITIONS;
    const t = this.tables[p];
    return t === undefined ? undefined : t.get((id - p) / PARTITIONS);
  }

  isLocalId(id: number): boolean {
    return Number.isSafeInteger(id) && id > 0 && this.tables[id % PARTITIONS] !== undefined;
  }

  // ---- queues ----

  /**
   * The queue, created if needed (the name must be valid). Throws `Too many queues`, unless
   * `recovering` (stored state is loaded whole).
   */
  queue(name: string, recovering = false): Queue {
    const q = this.queues.get(name);
    if (q !== undefined) return q;
    const p = partitionOf(name);
    if (!this.owns(p)) throw errors.internal(`queue ${name} belongs to partition ${p}, not owned here`);
    if (!recovering && this.queues.size >= this.maxQueues) throw errors.tooManyQueues(this.maxQueues);
    const created = new Queue(name, p);
    this.queues.set(name, created);
    return created;
  }

  /** Check that `queue(name)` would succeed, without creating anything. */
  checkQueue(name: string): void {
    if (this.queues.has(name)) return;
    const p = partitionOf(name);
    if (!this.owns(p)) throw errors.internal(`queue ${name} belongs to partition ${p}, not owned here`);
    if (this.queues.size >= this.maxQueues) throw errors.tooManyQueues(this.maxQueues);
  }

  maybeForget(q: Queue): void {
    if (q.isIdle() && this.queues.get(q.name) === q) {
      this.queues.delete(q.name);
      this.rateWaiters.delete(q);
    }
  }

  settingsChanged(q: Queue): void {
    if (this.persist) this.changes.queue(q.settings());
    this.fx.wakeQueue(q);
    this.maybeForget(q);
  }

  // ---- entering and leaving states ----

  enterReady(job: Job): void {
    const q = job.q;
    job.st = WAITING;
    q.ready.push(job, job.opts.priority, job.opts.lifo);
    q.waiting++;
    this.stats.queued++;
    this.fx.wakeQueue(q);
  }

  enterDelayed(job: Job, runAt: number): void {
    job.st = DELAYED;
    setRun(job, runAt - job.created);
    if (this.persist) this.changes.retime(job);
    ownText(job);
    this.delays.push(runAt, job);
    job.q.delayed++;
    this.stats.delayed++;
  }

  enterChildren(job: Job): void {
    job.st = CHILDREN;
    job.q.children++;
    this.stats.delayed++;
  }

  /** Ready when its run time has come, delayed otherwise. */
  enterRunnable(job: Job, now: number): void {
    const runAt = job.created + job.run;
    if (runAt > now) this.enterDelayed(job, runAt);
    else this.enterReady(job);
  }

  /**
   * Undo the bookkeeping of the job's current state. `timerFired` says that the heap entry that
   * made it leave (delay or timeout) has already been popped.
   */
  leave(job: Job, timerFired = false): void {
    const q = job.q;
    switch (job.st) {
      case WAITING:
        q.ready.remove(job, job.opts.priority);
        q.waiting--;
        this.stats.queued--;
        break;
      case DELAYED:
        if (!timerFired) this.delays.forget();
        q.delayed--;
        this.stats.delayed--;
        break;
      case CHILDREN:
        q.children--;
        this.stats.delayed--;
        break;
      case ACTIVE:
        this.dropLease(job);
        q.active--;
        this.stats.processing--;
        if (job.opts.timeout > 0 && !timerFired) this.timeouts.forget();
        if (q.concurrency > 0) this.fx.wakeQueue(q);
        break;
      case COMPLETED:
        this.retention.remove(job);
        break;
      case FAILED:
        q.dlq.delete(job);
        this.stats.dlq--;
        this.retention.remove(job);
        break;
    }
    job.st = GONE;
  }

  // ---- transitions ----

  /** A ready job (already popped from its ready queue) goes to a worker. */
  deliver(job: Job, now: number, owner: number): void {
    const q = job.q;
    q.waiting--;
    this.stats.queued--;
    job.st = ACTIVE;
    job.attempts++;
    setStamp(job, now - job.created);
    job.own = owner;
    this.addLease(job);
    q.active++;
    this.stats.processing++;
    if (job.opts.timeout > 0) this.timeouts.push(now + job.opts.timeout, job);
    if (this.persist) this.changes.update(job);
    if (this.fx.eventsOn) this.fx.event('job.started', q, idOf(job), now, jobText(job), null, null);
  }

  complete(job: Job, result: string | null, now: number): void {
    this.leave(job);
    job.st = COMPLETED;
    setStamp(job, now - job.created);
    if (result !== null) extraOf(job).result = result;
    this.counters.totalCompleted++;
    this.counters.latencySumMs += now - job.created;
    this.releaseKey(job);
    if (job.opts.ttl > 0) this.expiries.forget();
    if (this.persist) this.changes.update(job);
    if (this.fx.eventsOn) this.fx.event('job.completed', job.q, idOf(job), now, result, null, null);
    if (job.x !== null) this.deps.settle(job, 'completed', now);
    this.retain(job);
  }

  /** An active job failed (FAIL, timeout, lost lease): retry after back-off, or DLQ when spent. */
  failAttempt(job: Job, error: string | null, now: number, timerFired = false): void {
    this.leave(job, timerFired);
    if (job.attempts >= job.opts.maxAttempts) {
      this.toDlq(job, error, now, false);
      return;
    }
    setLastError(job, error);
    if (this.fx.eventsOn) this.fx.event('job.failed', job.q, idOf(job), now, null, error, null);
    if (job.opts.ttl > 0 && now >= job.created + job.opts.ttl) {
      // its ttl ran out while it was running: it may not be delivered again
      this.toDlq(job, TTL_EXPIRED, now, true);
      return;
    }
    const delay = job.opts.backoff * 2 ** Math.min(job.attempts - 1, MAX_BACKOFF_EXPONENT);
    if (delay > 0) this.enterDelayed(job, now + delay);
    else {
      setRun(job, now - job.created);
      if (this.persist) this.changes.retime(job);
      this.enterReady(job);
    }
    if (this.persist) this.changes.update(job);
  }

  /**
   * An active job whose lease the server takes back (its partition moves to another node while
   * its worker may be fine): waiting again, the delivery not counted as an attempt (the next owner
   * restores it at its old place in line: by run time, then push order). Its worker's ACK is
   * refused from now on; the job is delivered again.
   */
  returnLease(job: Job): void {
    this.leave(job);
    job.attempts--;
    this.enterReady(job);
    if (this.persist) this.changes.update(job);
  }

  /** An undelivered job whose ttl ran out. */
  expire(job: Job, now: number, timerFired = false): void {
    this.leave(job, timerFired);
    this.toDlq(job, TTL_EXPIRED, now, true);
  }

  /** Move a job that has left its state to the DLQ. */
  toDlq(job: Job, error: string | null, now: number, releaseKey: boolean): void {
    const q = job.q;
    job.st = FAILED;
    setStamp(job, now - job.created);
    setLastError(job, error);
    ownText(job); // the DLQ may keep it long after its batch is gone
    q.dlq.add(job);
    this.stats.dlq++;
    this.counters.totalFailed++;
    if (releaseKey) this.releaseKey(job);
    if (job.opts.ttl > 0) this.expiries.forget();
    if (this.persist) this.changes.update(job);
    if (this.fx.eventsOn) this.fx.event('job.failed', q, idOf(job), now, null, error, null);
    this.deps.settle(job, 'failed', now);
    this.retain(job);
  }

  /** Cancel: the job disappears; its children fail. */
  cancel(job: Job, now: number): void {
    this.leave(job);
    this.releaseKey(job);
    if (job.opts.ttl > 0) this.expiries.forget();
    this.drop(job);
    this.deps.settle(job, 'failed', now);
  }

  /** RETRYDLQ: a fresh start for a DLQ job (created now, attempts 0; the last error is kept). */
  revive(job: Job, now: number): void {
    this.leave(job);
    this.claimKey(job);
    job.created = now;
    job.run = 0;
    if (this.persist) this.changes.retime(job);
    job.stamp = 0;
    job.attempts = 0;
    const x = job.x;
    if (x !== null) {
      x.progress = 0;
      x.progressMsg = null;
      x.result = null;
      x.waitingOn = 0;
    }
    if (job.opts.ttl > 0) this.expiries.push(now + job.opts.ttl, job);
    this.enterReady(job);
    if (this.persist) this.changes.update(job);
  }

  // ---- retention ----

  retain(job: Job): void {
    const r = this.retention;
    r.add(job);
    while (r.over()) {
      const old = r.evictOne();
      if (old !== null) this.evict(old);
    }
  }

  /** A retained job (already out of the retention order) is forgotten. */
  evict(job: Job): void {
    if (job.st === FAILED) {
      job.q.dlq.delete(job);
      this.stats.dlq--;
    }
    job.st = GONE;
    this.releaseKey(job);
    this.drop(job);
  }

  /** Remove a job that has left every structure from the id table. */
  private drop(job: Job): void {
    job.st = GONE;
    const q = job.q;
    this.tables[q.partition]!.delete(job.seq);
    q.jobs--;
    if (this.persist) this.changes.delete(job);
    if (q.jobs === 0) this.maybeForget(q);
  }

  // ---- unique keys ----

  claimKey(job: Job): void {
    const key = keyOf(job);
    if (key === null) return;
    const q = job.q;
    (q.keys ??= new Map()).set(key, job);
  }

  releaseKey(job: Job): void {
    const key = keyOf(job);
    if (key === null) return;
    const keys = job.q.keys;
    if (keys !== null && keys.get(key) === job) keys.delete(key);
  }

  /** The job holding `key` in queue `q`, if any. */
  keyHolder(q: Queue | undefined, key: string): Job | undefined {
    return q === undefined || q.keys === null ? undefined : q.keys.get(key);
  }

  // ---- leases ----

  private addLease(job: Job): void {
    if (job.own === 0) return;
    let list = this.leases.get(job.own);
    if (list === undefined) this.leases.set(job.own, (list = []));
    job.pos = list.length;
    list.push(job);
  }

  dropLease(job: Job): void {
    if (job.own === 0) return;
    const list = this.leases.get(job.own);
    if (list === undefined) return;
    const last = list.pop()!;
    if (last !== job) {
      list[job.pos] = last;
      last.pos = job.pos;
    }
    // an owner that drops to zero leases usually takes another soon: keep its (empty) list
    // unless owners pile up; releaseOwner removes it when the connection goes
    if (list.length === 0 && this.leases.size > 1024) this.leases.delete(job.own);
  }
}
