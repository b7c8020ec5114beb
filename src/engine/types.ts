/**
 * The engine's contract: the types every other layer sees. The engine is pure and synchronous:
 * the clock is an argument, nothing here does I/O, and each command either applies whole or
 * throws a FlashqError (src/protocol/errors.ts) having changed nothing.
 */

/** Fixed number of partitions. A queue lives in `partitionOf(queue)`; a job id is `seq * P + partition`. */
export const PARTITIONS = 256;

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'waiting-children' | 'unknown';

/** A validated job to push. `data` is the JSON text of the payload (never re-parsed by the engine). */
export interface JobInput {
  data: string;
  /**
   * Set by the decoder for the plain ASCII payloads of a batch (then `data` is ''): the payload is
   * block[ds, de), bytes of the request copied once per request. The engine keeps such a job's
   * payload as that span, not as a string of its own (see job.ts).
   */
  block?: Buffer | null;
  ds?: number;
  de?: number;
  priority: number;
  /** ms before the job becomes ready; 0 = ready now. */
  delay: number;
  /** ms from created_at after which an undelivered job expires to the DLQ; 0 = none. */
  ttl: number;
  /** ms an active job may run before it fails with `Job timed out`; 0 = none. */
  timeout: number;
  /** >= 1. */
  maxAttempts: number;
  /** base ms of exponential retry back-off. */
  backoff: number;
  uniqueKey: string | null;
  /** parent job ids; may be empty. */
  dependsOn: number[];
  /** may be empty. */
  tags: string[];
  lifo: boolean;
}

/** Read-only view of a job, whatever the engine's internal layout. Times are epoch ms. */
export interface JobView {
  readonly id: number;
  readonly queue: string;
  /** JSON text of the payload. */
  readonly data: string;
  readonly priority: number;
  readonly createdAt: number;
  readonly runAt: number;
  /** 0 unless active. */
  readonly startedAt: number;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly backoff: number;
  /** 0 = none. */
  readonly ttl: number;
  /** 0 = none. */
  readonly timeout: number;
  readonly uniqueKey: string | null;
  readonly dependsOn: readonly number[];
  /** 0..100 */
  readonly progress: number;
  readonly progressMsg: string | null;
  readonly tags: readonly string[];
  readonly lifo: boolean;
  readonly state: JobState;
  /** JSON text of the ack result, or null. */
  readonly result: string | null;
  /** last failure text (retry or DLQ), or null. */
  readonly error: string | null;
  /** epoch ms when it reached completed/failed; 0 otherwise. */
  readonly finishedAt: number;
  /** lease owner while active (a connection or stream id); 0 = none. */
  readonly owner: number;
}

export interface QueueInfo {
  name: string;
  /** waiting + delayed + waiting-children */
  pending: number;
  /** the parts of `pending`: ready, delayed, and waiting for parents */
  waiting: number;
  delayed: number;
  waitingChildren: number;
  processing: number;
  dlq: number;
  paused: boolean;
  rateLimit: number | null;
  concurrencyLimit: number | null;
}

export interface QueueSettings {
  name: string;
  paused: boolean;
  rateLimit: number | null;
  concurrencyLimit: number | null;
}

export interface Stats {
  queued: number; // waiting (ready)
  processing: number; // active
  delayed: number; // delayed + waiting-children
  dlq: number; // failed jobs in DLQs
}

/** Cumulative counters; rates are computed by whoever samples them over time. */
export interface Counters {
  totalPushed: number;
  totalCompleted: number;
  totalFailed: number;
  /** sum over completed jobs of (completed_at - created_at), ms. */
  latencySumMs: number;
}

export interface CronView {
  name: string;
  queue: string;
  /** JSON text */
  data: string;
  schedule: string;
  priority: number;
  nextRun: number;
}

export type EventType = 'job.pushed' | 'job.started' | 'job.completed' | 'job.failed' | 'job.progress';

export interface EngineEvent {
  type: EventType;
  queue: string;
  jobId: number;
  timestamp: number;
  /** JSON text: the payload for pushed/started, the result for completed; null otherwise. */
  data: string | null;
  error: string | null;
  /** for job.progress */
  progress: number | null;
}

/** A parent job's outcome, addressed to the partition of a child that waits on it elsewhere. */
export interface DependencyNotice {
  parentId: number;
  outcome: 'completed' | 'failed';
  /** the child's partition (the watcher that asked) */
  partition: number;
}

/** Parent states as answered by the parent's owner when a child elsewhere asks. */
export type ParentStatus = 'pending' | 'completed' | 'failed' | 'unknown';

export type JobFilterState = Exclude<JobState, 'unknown'>;

/**
 * What one turn of commands changed, for the store (only recorded when persistence is on).
 * Coalesced per job: the store reads the job's current view at commit time.
 */
export interface Changes {
  /** jobs created this turn (full insert), with their current view */
  inserted: JobView[];
  /** jobs that existed before this turn and changed (state, attempts, times, progress, result, error) */
  updated: JobView[];
  /** ids of jobs removed (cancelled, evicted from retention, removed from DLQ and not retried) */
  deleted: number[];
  /** queues whose settings changed (current settings) */
  queues: QueueSettings[];
  /** crons created or replaced (current view) */
  cronsUpserted: CronView[];
  /** names of crons deleted */
  cronsDeleted: string[];
  /**
   * ids among `updated` whose created_at or run_at changed this turn (delayed, retried, revived):
   * the store writes every other update without those two columns
   */
  retimed: number[];
  /** highest seq used per partition, for partitions whose sequence advanced */
  seqs: Array<{ partition: number; seq: number }>;
  /**
   * crons the clock fired this turn (each also in `cronsUpserted`), with the next run they had
   * before: in cluster mode the store advances it by compare-and-set, so a run fires once
   */
  cronsFired: CronFiring[];
  /** partitions of cron rows deleted, or left by a cron that moved to another queue, this turn */
  cronPartitions: number[];
}

/** One cron firing as the store needs it: which row, the next run it had, the next run it has. */
export interface CronFiring {
  name: string;
  partition: number;
  prev: number;
  next: number;
}

/** What the shard must do after commands: wake waiters, publish, notify other partitions. */
export interface Effects {
  /** queues that may now be able to deliver (new ready jobs, resume, limit raised, slot freed) */
  wake: string[];
  /** only filled when events are enabled */
  events: EngineEvent[];
  dependencies: DependencyNotice[];
}
