import type { CronView, JobView, QueueInfo } from '../../src/engine/types.js';

/** A decoded job's options when the request sets none (its `data` aside). */
export const DEFAULT_JOB = {
  priority: 0,
  delay: 0,
  ttl: 0,
  timeout: 0,
  maxAttempts: 1,
  backoff: 1000,
  uniqueKey: null,
  dependsOn: [],
  tags: [],
  lifo: false,
  block: null,
  ds: 0,
  de: 0,
};

/** A job view with every field set; override what a test is about. */
export function jobView(over: Partial<JobView> = {}): JobView {
  return {
    id: 257,
    queue: 'emails',
    data: '{"email":"a@example.com"}',
    priority: 10,
    createdAt: 1704067200000,
    runAt: 1704067205000,
    startedAt: 0,
    attempts: 0,
    maxAttempts: 3,
    backoff: 1000,
    ttl: 0,
    timeout: 0,
    uniqueKey: null,
    dependsOn: [],
    progress: 0,
    progressMsg: null,
    tags: [],
    lifo: false,
    state: 'waiting',
    result: null,
    error: null,
    finishedAt: 0,
    owner: 0,
    ...over,
  };
}

export function queueInfo(over: Partial<QueueInfo> = {}): QueueInfo {
  return { name: 'emails', pending: 150, waiting: 140, delayed: 10, waitingChildren: 0, processing: 5, dlq: 2, paused: false, rateLimit: null, concurrencyLimit: null, ...over };
}

export function cronView(over: Partial<CronView> = {}): CronView {
  return { name: 'daily-cleanup', queue: 'maintenance', data: '{"action":"cleanup"}', schedule: '0 0 3 * * *', priority: 0, nextRun: 1704067200000, ...over };
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
