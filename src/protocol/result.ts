import type { Counters, CronView, JobState, JobView, QueueInfo, Stats } from '../engine/types.js';

/**
 * What executing a Request produced, before it is rendered for a surface. Encoders turn
 * (request, result) into the exact answer shape of that surface (compat.md).
 */
export type Result =
  /** PUSH (one job) / PUSHB: the created jobs in input order */
  | { kind: 'pushed'; jobs: JobView[] }
  /** PULL / PULLB / DLQ / JOBS: jobs (PULL: at most one; empty = timed out) */
  | { kind: 'jobs'; jobs: JobView[] }
  /** ACK, FAIL, CANCEL, PROGRESS, PAUSE, RESUME, RATELIMIT*, *CONCURRENCY, CRONDELETE */
  | { kind: 'ok' }
  /** ACKB (acked), RETRYDLQ (retried) */
  | { kind: 'count'; count: number }
  /** GETJOB: view with state and result */
  | { kind: 'job'; job: JobView | null; state: JobState }
  | { kind: 'state'; id: number; state: JobState }
  | { kind: 'result'; id: number; result: string | null }
  | { kind: 'progress'; id: number; progress: number; message: string | null }
  | { kind: 'queues'; queues: QueueInfo[] }
  | { kind: 'crons'; crons: CronView[] }
  /** CRON create answers the stored cron */
  | { kind: 'cron'; cron: CronView }
  | { kind: 'stats'; stats: Stats }
  /** METRICS: cumulative counters and per-queue info; rates are filled in by the front */
  | { kind: 'metrics'; counters: Counters; queues: QueueInfo[]; jobsPerSecond: number; avgLatencyMs: number };

/** How a request arrived and therefore how its answer is rendered. */
export const enum Format {
  /** JSON line answers with the compat.md TCP shapes, `\n`-terminated */
  TcpJson = 0,
  /** length-prefixed MessagePack maps with the same shapes */
  TcpMsgpack = 1,
  /** `{ok,data,error}` envelope; the HTTP status travels beside the bytes */
  Http = 2,
  /** protobuf response message of the gRPC method */
  Grpc = 3,
  /** JSON of the Result itself, for the front's fan-out merges */
  Internal = 4,
}
