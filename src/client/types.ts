/**
 * The shapes the flashQ TCP protocol speaks, as the client sees them (compat.md, "Answer shapes").
 * Field names stay snake_case, exactly as on the wire, so a job read here is the job the server sent.
 */

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'waiting-children' | 'unknown';

/** A job as the server returns it. Every key is always present; absent optionals are `null`. */
export interface Job<T = unknown> {
  id: number;
  queue: string;
  data: T;
  priority: number;
  /** epoch ms */
  created_at: number;
  /** epoch ms at which the job becomes (or became) ready */
  run_at: number;
  /** epoch ms of the current delivery; 0 unless active */
  started_at: number;
  /** deliveries so far (a pull increments it) */
  attempts: number;
  max_attempts: number;
  /** base back-off of retries, ms */
  backoff: number;
  ttl: number | null;
  timeout: number | null;
  unique_key: string | null;
  depends_on: number[];
  progress: number;
  progress_msg: string | null;
  tags: string[];
  lifo: boolean;
}

/** Options of PUSH, and of each job of PUSHB. Omitted fields take the server's defaults. */
export interface PushOptions {
  /** higher first; default 0 */
  priority?: number;
  /** ms before the job is ready; default 0 */
  delay?: number;
  /** ms from creation after which an undelivered job expires to the DLQ */
  ttl?: number;
  /** ms an active job may run before it fails with `Job timed out` */
  timeout?: number;
  /** deliveries before the DLQ; default 1 */
  max_attempts?: number;
  /** base ms of exponential retry back-off; default 1000 */
  backoff?: number;
  /** per-queue deduplication key */
  unique_key?: string;
  /** ids of jobs that must complete first */
  depends_on?: number[];
  tags?: string[];
  /** ahead of the non-lifo jobs of its priority */
  lifo?: boolean;
}

/** One job of a batch push. */
export interface BatchJob<T = unknown> extends PushOptions {
  data: T;
}

export interface PullOptions {
  /**
   * Longest wait for a job, ms. Omitted: wait until a job arrives. 0: answer at once
   * (a paused queue then errors with `Queue paused`, an exhausted rate limit with `Rate limited`).
   */
  timeout?: number;
}

export interface JobProgress {
  id: number;
  progress: number;
  message: string | null;
}

export interface JobWithState<T = unknown> {
  job: Job<T> | null;
  state: JobState;
}

export interface QueueInfo {
  name: string;
  pending: number;
  processing: number;
  dlq: number;
  paused: boolean;
  rate_limit: number | null;
  concurrency_limit: number | null;
}

export interface CronOptions<T = unknown> {
  queue: string;
  data: T;
  /** 6 fields (`sec min hour dom month dow`) or 5 (seconds 0); UTC */
  schedule: string;
  priority?: number;
}

export interface CronInfo<T = unknown> {
  name: string;
  queue: string;
  data: T;
  schedule: string;
  priority: number;
  /** epoch ms */
  next_run: number;
}

export interface Stats {
  queued: number;
  processing: number;
  delayed: number;
  dlq: number;
}

export interface QueueMetrics {
  name: string;
  pending: number;
  processing: number;
  dlq: number;
  rate_limit: number | null;
}

export interface Metrics {
  total_pushed: number;
  total_completed: number;
  total_failed: number;
  jobs_per_second: number;
  avg_latency_ms: number;
  queues: QueueMetrics[];
}

/** Any command object; `cmd` is the upper-case command word. */
export interface Command {
  cmd: string;
  [field: string]: unknown;
}

/** Any answer object as received. */
export interface Answer {
  ok: boolean;
  error?: string;
  reqId?: string | number;
  [field: string]: unknown;
}
