import { latin1Text } from '../base/bytes.js';
import type { JobState, JobView } from './types.js';
import { PARTITIONS } from './types.js';
import type { Queue } from './queue.js';

// Job states as small integers (the view maps them to names).
export const WAITING = 0;
export const DELAYED = 1;
export const ACTIVE = 2;
export const COMPLETED = 3;
export const FAILED = 4;
export const CHILDREN = 5;
export const GONE = 6;

export const STATE_NAMES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children', 'unknown'];

export function stateCode(state: JobState | 'waitingchildren'): number {
  const i = STATE_NAMES.indexOf(state === 'waitingchildren' ? 'waiting-children' : state);
  return i < 0 ? GONE : i;
}

const NO_IDS: readonly number[] = Object.freeze([]);
const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * Options that many jobs share. One frozen instance per distinct combination keeps them out of
 * each job (six fields → one pointer).
 */
export class JobOpts {
  constructor(
    readonly priority: number,
    readonly lifo: boolean,
    readonly maxAttempts: number,
    readonly backoff: number,
    readonly ttl: number,
    readonly timeout: number,
  ) {
    Object.freeze(this);
  }
}

/** Interns JobOpts; the last one used is checked first, since batches usually repeat it. */
export class OptsCache {
  private last: JobOpts | null = null;
  private readonly known = new Map<string, JobOpts>();

  get(priority: number, lifo: boolean, maxAttempts: number, backoff: number, ttl: number, timeout: number): JobOpts {
    const l = this.last;
    if (
      l !== null &&
      l.priority === priority &&
      l.lifo === lifo &&
      l.maxAttempts === maxAttempts &&
      l.backoff === backoff &&
      l.ttl === ttl &&
      l.timeout === timeout
    ) {
      return l;
    }
    const key = `${priority}|${lifo ? 1 : 0}|${maxAttempts}|${backoff}|${ttl}|${timeout}`;
    let o = this.known.get(key);
    if (o === undefined) {
      // unbounded variety (e.g. per-job priorities) must not grow the cache forever
      if (this.known.size >= 4096) this.known.clear();
      o = new JobOpts(priority, lifo, maxAttempts, backoff, ttl, timeout);
      this.known.set(key, o);
    }
    this.last = o;
    return o;
  }
}

/** The rarely-set part of a job, allocated on first need. */
export class JobExtra {
  uniqueKey: string | null = null;
  dependsOn: readonly number[] = NO_IDS;
  tags: readonly string[] = NO_TAGS;
  progress = 0;
  progressMsg: string | null = null;
  result: string | null = null;
  error: string | null = null;
  /** local jobs in waiting-children that wait on this one */
  children: Job[] | null = null;
  /** partitions of other engines waiting on this one */
  watchers: number[] | null = null;
  /** parents not yet completed (while in waiting-children) */
  waitingOn = 0;
}

/**
 * One job: fourteen fields, all small integers or pointers except `created`, so a waiting job
 * costs ~170 bytes of heap, plus its payload's bytes (in its request's block or its own string).
 * Times other than `created` are offsets from it (they stay Smis).
 * Created by `newJob` from one object literal: V8 tracks that allocation site and, seeing that
 * jobs outlive young-generation collections, allocates them directly in the old generation
 * (a class instance would be copied twice by the scavenger first).
 */
export interface Job {
  /** sequence within the partition; id = seq * PARTITIONS + partition */
  seq: number;
  q: Queue;
  /**
   * The payload: its JSON text, or the block (shared by the jobs of one request) whose ASCII bytes
   * [ds, de) are that text. A young string per pushed job was most of what the scavenger copies
   * on PUSHB; a block is one off-heap buffer per request (raw PUSHB ×1000 1.05M → 1.21M jobs/s in
   * one A/B here; pulls then make the string, −5% on PULLB+ACKB, within noise). Jobs that may
   * outlive their siblings by far (delayed, dead-lettered, waiting on parents) take a string of
   * their own (ownText); a plain job keeps at most its request's bytes alive.
   */
  data: string | Buffer;
  ds: number;
  de: number;
  opts: JobOpts;
  /** epoch ms */
  created: number;
  /** runAt - created */
  run: number;
  /** startedAt - created while active; finishedAt - created once completed/failed */
  stamp: number;
  attempts: number;
  st: number;
  /** deque position while waiting or retained; index in the owner's lease list while active */
  pos: number;
  /** lease owner while active */
  own: number;
  x: JobExtra | null;
}

export function newJob(
  seq: number,
  q: Queue,
  data: string | Buffer,
  ds: number,
  de: number,
  opts: JobOpts,
  created: number,
  run: number,
  attempts: number,
): Job {
  const job: Job = { seq, q, data, ds, de, opts, created, run: 0, stamp: 0, attempts, st: GONE, pos: 0, own: 0, x: null };
  if (run !== 0) setRun(job, run);
  return job;
}

/** The payload's JSON text. */
export function jobText(job: Job): string {
  const d = job.data;
  return typeof d === 'string' ? d : latin1Text(d, job.ds, job.de);
}

/** Give the job a string of its own, so it no longer keeps its request's block alive. */
export function ownText(job: Job): void {
  if (typeof job.data === 'string') return;
  job.data = latin1Text(job.data, job.ds, job.de);
  job.ds = job.de = 0;
}

/*
 * Offsets are computed in double arithmetic; stored as is, an integral double would turn the
 * field into a boxed double in every job (+16 bytes each). Storing the int32 form keeps it a Smi;
 * only an offset beyond ±24 days takes the other branch.
 */
export function setRun(job: Job, offset: number): void {
  if ((offset | 0) === offset) job.run = offset | 0;
  else job.run = offset;
}

export function setStamp(job: Job, offset: number): void {
  if ((offset | 0) === offset) job.stamp = offset | 0;
  else job.stamp = offset;
}

export function extraOf(job: Job): JobExtra {
  return job.x ?? (job.x = new JobExtra());
}

/**
 * A failure's error text, kept as the job's error and shown as its progress message (the reference
 * server's place for the last error, which GETJOB, DLQ listings and job views carry). A failure
 * without a text keeps the previous message.
 */
export function setLastError(job: Job, error: string | null): void {
  const x = extraOf(job);
  x.error = error;
  if (error !== null) x.progressMsg = error;
}

export function idOf(job: Job): number {
  return job.seq * PARTITIONS + job.q.partition;
}

export function keyOf(job: Job): string | null {
  return job.x === null ? null : job.x.uniqueKey;
}

/**
 * The JobView of a job: reads its current state, so a view handed out is live (copy it with
 * `snapshotJob` to keep it). One small object per view, short-lived.
 */
export class JobRef implements JobView {
  constructor(readonly job: Job) {}

  get id(): number {
    return idOf(this.job);
  }
  get queue(): string {
    return this.job.q.name;
  }
  get data(): string {
    return jobText(this.job);
  }
  get priority(): number {
    return this.job.opts.priority;
  }
  get createdAt(): number {
    return this.job.created;
  }
  get runAt(): number {
    return this.job.created + this.job.run;
  }
  get startedAt(): number {
    const j = this.job;
    return j.st === ACTIVE ? j.created + j.stamp : 0;
  }
  get attempts(): number {
    return this.job.attempts;
  }
  get maxAttempts(): number {
    return this.job.opts.maxAttempts;
  }
  get backoff(): number {
    return this.job.opts.backoff;
  }
  get ttl(): number {
    return this.job.opts.ttl;
  }
  get timeout(): number {
    return this.job.opts.timeout;
  }
  get uniqueKey(): string | null {
    return keyOf(this.job);
  }
  get dependsOn(): readonly number[] {
    const x = this.job.x;
    return x === null ? NO_IDS : x.dependsOn;
  }
  get progress(): number {
    const x = this.job.x;
    return x === null ? 0 : x.progress;
  }
  get progressMsg(): string | null {
    const x = this.job.x;
    return x === null ? null : x.progressMsg;
  }
  get tags(): readonly string[] {
    const x = this.job.x;
    return x === null ? NO_TAGS : x.tags;
  }
  get lifo(): boolean {
    return this.job.opts.lifo;
  }
  get state(): JobState {
    return STATE_NAMES[this.job.st]!;
  }
  get result(): string | null {
    const x = this.job.x;
    return x === null ? null : x.result;
  }
  get error(): string | null {
    const x = this.job.x;
    return x === null ? null : x.error;
  }
  get finishedAt(): number {
    const j = this.job;
    return j.st === COMPLETED || j.st === FAILED ? j.created + j.stamp : 0;
  }
  get owner(): number {
    const j = this.job;
    return j.st === ACTIVE ? j.own : 0;
  }
}

export function viewOf(job: Job): JobView {
  return new JobRef(job);
}

/** A plain, frozen copy of a view (views handed out by the engine are live). */
export function snapshotJob(v: JobView): JobView {
  return Object.freeze({
    id: v.id,
    queue: v.queue,
    data: v.data,
    priority: v.priority,
    createdAt: v.createdAt,
    runAt: v.runAt,
    startedAt: v.startedAt,
    attempts: v.attempts,
    maxAttempts: v.maxAttempts,
    backoff: v.backoff,
    ttl: v.ttl,
    timeout: v.timeout,
    uniqueKey: v.uniqueKey,
    dependsOn: [...v.dependsOn],
    progress: v.progress,
    progressMsg: v.progressMsg,
    tags: [...v.tags],
    lifo: v.lifo,
    state: v.state,
    result: v.result,
    error: v.error,
    finishedAt: v.finishedAt,
    owner: v.owner,
  });
}
