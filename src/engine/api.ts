import type { JobRows } from './job-rows.js';
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
  QueueSettings,
  Stats,
} from './types.js';

export interface EngineOptions {
  /** which of the PARTITIONS this engine owns at start (a shard owns `p % shards === shardIndex`; a cluster shard starts with none and adopts partitions as its node takes them). */
  owns: (partition: number) => boolean;
  /** completed + failed jobs retained for lookup (oldest evicted first). */
  keepCompleted: number;
  /** live queues at most (compat.md: 10,000). */
  maxQueues: number;
  /** record Changes for the store. */
  persist: boolean;
}

/** A job as loaded from the store at recovery (every field, state included). */
export interface RestoredJob extends JobInput {
  id: number;
  queue: string;
  state: Exclude<JobState, 'unknown'>;
  createdAt: number;
  runAt: number;
  startedAt: number;
  attempts: number;
  progress: number;
  progressMsg: string | null;
  result: string | null;
  error: string | null;
  finishedAt: number;
}

export interface RestoreInput {
  /** the stored jobs, column by column (JobRows.of turns RestoredJob objects into rows) */
  jobs: JobRows;
  queues: QueueSettings[];
  crons: Array<Omit<CronView, 'nextRun'> & { nextRun: number }>;
  seqs: Array<{ partition: number; seq: number }>;
  /** the partitions this input is the whole stored state of (absent: every partition the engine owns) */
  partitions?: number[];
}

/**
 * The queue engine. Every method is synchronous; `now` is epoch ms supplied by the caller.
 * A method that throws a FlashqError has changed nothing. Ids of unknown or foreign partitions
 * behave as unknown jobs.
 */
export interface EngineApi {
  // ---- producers ----
  /**
   * Push a batch (validated whole first: queue name, queue count, unique keys within the batch and
   * against live jobs, parents known). Parents in partitions this engine does not own must be
   * given in `remoteParents` (their status as the owner answered `watchParent`).
   */
  push(queue: string, jobs: JobInput[], now: number, remoteParents?: ReadonlyMap<number, ParentStatus>): JobView[];
  /** Parent ids among `jobs` that live in partitions this engine does not own (deduplicated). */
  remoteParentsOf(jobs: readonly JobInput[]): number[];

  // ---- workers ----
  /**
   * Deliver up to `count` ready jobs (priority, then FIFO/LIFO), honouring pause, rate limit and
   * concurrency; attempts+1, state active, owner recorded. Returns [] when nothing is deliverable.
   */
  pull(queue: string, count: number, now: number, owner: number): JobView[];
  /** Why `pull` would deliver nothing right now: 'paused', 'rate_limited', or null (empty / concurrency). */
  pullBlock(queue: string, now: number): 'paused' | 'rate_limited' | null;
  /** Complete an active job. Throws `Job N not found` unless active. */
  ack(id: number, result: string | null, now: number): void;
  /** Complete every active job among ids; returns how many were completed (others are skipped). */
  ackBatch(ids: readonly number[], now: number): number;
  /** Fail an active job: retry with back-off or move to the DLQ. Throws `Job N not found` unless active. */
  fail(id: number, error: string | null, now: number): void;
  /** Fail back every job leased to `owner` with `worker connection lost`; returns how many. */
  releaseOwner(owner: number, now: number): number;
  progress(id: number, progress: number, message: string | null, now: number): void;

  // ---- lookups ----
  getJob(id: number): JobView | null;
  getState(id: number): JobState;
  getResult(id: number): string | null;
  getProgress(id: number): { progress: number; message: string | null };
  /** Job browser: newest first (created_at desc, then id desc), after `offset`, at most `limit`. */
  listJobs(filter: { queue?: string; state?: JobFilterState }, limit: number, offset: number): JobView[];

  // ---- management ----
  cancel(id: number, now: number): void;
  /** DLQ contents, oldest first. */
  dlq(queue: string, count: number): JobView[];
  /** Retry one DLQ job (id) or all of the queue's; fresh start (created_at now, attempts 0). Returns count. */
  retryDlq(queue: string, id: number | null, now: number): number;
  pause(queue: string): void;
  resume(queue: string): void;
  setRateLimit(queue: string, perSecond: number, now: number): void;
  clearRateLimit(queue: string): void;
  setConcurrency(queue: string, limit: number): void;
  clearConcurrency(queue: string): void;
  listQueues(): QueueInfo[];
  stats(): Stats;
  counters(): Counters;

  // ---- cron ----
  /** Create or replace; validates the schedule (6 or 5 fields, UTC). */
  cronUpsert(name: string, queue: string, schedule: string, data: string, priority: number, now: number): CronView;
  /** Returns whether it existed. */
  cronDelete(name: string): boolean;
  cronList(): CronView[];

  // ---- dependencies across engines ----
  /**
   * Asked by another partition's engine about a parent it owns. Registers `watcherPartition` for a
   * pending parent, so its outcome is later emitted as a DependencyNotice.
   */
  watchParent(parentId: number, watcherPartition: number): ParentStatus;
  /** A remote parent reached an outcome: release (or fail) local children waiting on it. */
  parentResolved(parentId: number, outcome: 'completed' | 'failed', now: number): void;
  /** Remote parents that local waiting-children jobs still wait on (re-watched after recovery). */
  pendingRemoteParents(): Array<{ parentId: number; partition: number; watcher: number }>;

  // ---- time ----
  /** Apply everything due at `now`: delayed → ready, ttl expiry, active timeouts, due crons. */
  tick(now: number): void;
  /** Earliest future time at which `tick` has work, or Infinity. */
  nextDue(): number;

  // ---- outputs ----
  /** Turn on/off event collection (off costs nothing per job). */
  setEventsEnabled(on: boolean): void;
  /** Effects accumulated since the last call. */
  takeEffects(): Effects;
  /** Changes accumulated since the last call (empty unless persist). */
  takeChanges(): Changes;

  // ---- recovery ----
  /** Load state from the store (before any command). Active jobs count as a lost lease. */
  restore(input: RestoreInput, now: number): void;
}
