import type { Engine } from '../engine/engine.js';
import type { Request } from '../protocol/request.js';
import type { Result } from '../protocol/result.js';

/** Requests the shard may answer later (remote parents, parked pulls); everything else is here. */
export type DeferrableCommand = 'PUSH' | 'PUSHB' | 'PULL' | 'PULLB';

/**
 * A request answered straight from the engine: the mapping from the wire's commands to engine
 * calls, and from what the engine returns to the Result the encoders render.
 */
export function runCommand(e: Engine, r: Exclude<Request, { cmd: DeferrableCommand }>, now: number): Result {
  switch (r.cmd) {
    case 'ACK':
      e.ack(r.id, r.result, now);
      return { kind: 'ok' };
    case 'ACKB':
      return { kind: 'count', count: e.ackBatch(r.ids, now) };
    case 'FAIL':
      e.fail(r.id, r.error, now);
      return { kind: 'ok' };
    case 'CANCEL':
      e.cancel(r.id, now);
      return { kind: 'ok' };
    case 'PROGRESS':
      e.progress(r.id, r.progress, r.message, now);
      return { kind: 'ok' };
    case 'GETPROGRESS': {
      const p = e.getProgress(r.id);
      return { kind: 'progress', id: r.id, progress: p.progress, message: p.message };
    }
    case 'GETJOB':
      return { kind: 'job', job: e.getJob(r.id), state: e.getState(r.id) };
    case 'GETSTATE':
      return { kind: 'state', id: r.id, state: e.getState(r.id) };
    case 'GETRESULT':
      return { kind: 'result', id: r.id, result: e.getResult(r.id) };
    case 'DLQ':
      return { kind: 'jobs', jobs: e.dlq(r.queue, r.count) };
    case 'RETRYDLQ':
      return { kind: 'count', count: e.retryDlq(r.queue, r.id, now) };
    case 'RATELIMIT':
      e.setRateLimit(r.queue, r.limit, now);
      return { kind: 'ok' };
    case 'RATELIMITCLEAR':
      e.clearRateLimit(r.queue);
      return { kind: 'ok' };
    case 'SETCONCURRENCY':
      e.setConcurrency(r.queue, r.limit);
      return { kind: 'ok' };
    case 'CLEARCONCURRENCY':
      e.clearConcurrency(r.queue);
      return { kind: 'ok' };
    case 'PAUSE':
      e.pause(r.queue);
      return { kind: 'ok' };
    case 'RESUME':
      e.resume(r.queue);
      return { kind: 'ok' };
    case 'LISTQUEUES':
      return { kind: 'queues', queues: e.listQueues() };
    case 'CRON':
      return { kind: 'cron', cron: e.cronUpsert(r.name, r.queue, r.schedule, r.data, r.priority, now) };
    case 'CRONDELETE':
      e.cronDelete(r.name);
      return { kind: 'ok' };
    case 'CRONLIST':
      return { kind: 'crons', crons: e.cronList() };
    case 'STATS':
      return { kind: 'stats', stats: e.stats() };
    case 'METRICS':
      return { kind: 'metrics', counters: e.counters(), queues: e.listQueues(), jobsPerSecond: 0, avgLatencyMs: 0 };
    case 'JOBS':
      return {
        kind: 'jobs',
        jobs: e.listJobs({ queue: r.queue ?? undefined, state: r.state ?? undefined }, r.limit, r.offset),
      };
  }
}
