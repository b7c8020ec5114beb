import type { JobFilterState, JobInput } from '../engine/types.js';

/**
 * A validated request, as decoded in a shard from any surface (TCP JSON, TCP MessagePack, HTTP,
 * gRPC). Validation happens whole before anything is applied. AUTH never reaches a shard.
 */
export type Request =
  | { cmd: 'PUSH'; queue: string; job: JobInput }
  | { cmd: 'PUSHB'; queue: string; jobs: JobInput[] }
  /** timeout: ms to wait; null = wait until a job comes (or the connection closes); 0 = never wait */
  | { cmd: 'PULL'; queue: string; timeout: number | null }
  | { cmd: 'PULLB'; queue: string; count: number; timeout: number | null }
  | { cmd: 'ACK'; id: number; result: string | null }
  | { cmd: 'ACKB'; ids: number[] }
  | { cmd: 'FAIL'; id: number; error: string | null }
  | { cmd: 'CANCEL'; id: number }
  | { cmd: 'PROGRESS'; id: number; progress: number; message: string | null }
  | { cmd: 'GETPROGRESS'; id: number }
  | { cmd: 'GETJOB'; id: number }
  | { cmd: 'GETSTATE'; id: number }
  | { cmd: 'GETRESULT'; id: number }
  | { cmd: 'DLQ'; queue: string; count: number }
  | { cmd: 'RETRYDLQ'; queue: string; id: number | null }
  | { cmd: 'RATELIMIT'; queue: string; limit: number }
  | { cmd: 'RATELIMITCLEAR'; queue: string }
  | { cmd: 'SETCONCURRENCY'; queue: string; limit: number }
  | { cmd: 'CLEARCONCURRENCY'; queue: string }
  | { cmd: 'PAUSE'; queue: string }
  | { cmd: 'RESUME'; queue: string }
  | { cmd: 'LISTQUEUES' }
  | { cmd: 'CRON'; name: string; queue: string; data: string; schedule: string; priority: number }
  | { cmd: 'CRONDELETE'; name: string }
  | { cmd: 'CRONLIST' }
  | { cmd: 'STATS' }
  | { cmd: 'METRICS' }
  /** job browser (HTTP GET /jobs); fanned out to every shard */
  | { cmd: 'JOBS'; queue: string | null; state: JobFilterState | null; limit: number; offset: number };

export type Command = Request['cmd'];

/** Commands that every shard answers and the front merges. */
export const FANOUT_COMMANDS: ReadonlySet<string> = new Set(['LISTQUEUES', 'CRONLIST', 'STATS', 'METRICS', 'JOBS']);
