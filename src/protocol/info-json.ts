import type { Counters, CronView, QueueInfo, Stats } from '../engine/types.js';
import { realJson } from './job-json.js';

/** JSON text of the non-job answer parts shared by the TCP and HTTP surfaces (compat.md names). */

function limitJson(n: number | null): string {
  return n === null ? 'null' : String(n);
}

function listJson<T>(items: readonly T[], one: (item: T) => string): string {
  let s = '[';
  for (let i = 0; i < items.length; i++) s += (i === 0 ? '' : ',') + one(items[i]!);
  return s + ']';
}

function queueEntry(q: QueueInfo): string {
  return (
    '{"name":' +
    JSON.stringify(q.name) +
    ',"pending":' +
    q.pending +
    ',"processing":' +
    q.processing +
    ',"dlq":' +
    q.dlq +
    ',"paused":' +
    q.paused +
    ',"rate_limit":' +
    limitJson(q.rateLimit) +
    ',"concurrency_limit":' +
    limitJson(q.concurrencyLimit) +
    '}'
  );
}

/** LISTQUEUES entries: name, pending, processing, dlq, paused, rate_limit, concurrency_limit. */
export function queuesJson(queues: readonly QueueInfo[]): string {
  return listJson(queues, queueEntry);
}

/**
 * HTTP GET /queues entries: the LISTQUEUES keys, then the parts of `pending` (waiting, delayed,
 * waiting_children) that a dashboard shows; extra keys at the end leave the document's shape intact.
 */
function httpQueueEntry(q: QueueInfo): string {
  return (
    queueEntry(q).slice(0, -1) +
    ',"waiting":' +
    q.waiting +
    ',"delayed":' +
    q.delayed +
    ',"waiting_children":' +
    q.waitingChildren +
    '}'
  );
}

export function httpQueuesJson(queues: readonly QueueInfo[]): string {
  return listJson(queues, httpQueueEntry);
}

function metricsQueueEntry(q: QueueInfo): string {
  return (
    '{"name":' +
    JSON.stringify(q.name) +
    ',"pending":' +
    q.pending +
    ',"processing":' +
    q.processing +
    ',"dlq":' +
    q.dlq +
    ',"rate_limit":' +
    limitJson(q.rateLimit) +
    '}'
  );
}

function cronEntry(c: CronView): string {
  return (
    '{"name":' +
    JSON.stringify(c.name) +
    ',"queue":' +
    JSON.stringify(c.queue) +
    ',"data":' +
    c.data +
    ',"schedule":' +
    JSON.stringify(c.schedule) +
    ',"priority":' +
    c.priority +
    ',"next_run":' +
    c.nextRun +
    '}'
  );
}

/** A cron: name, queue, data, schedule, priority, next_run. */
export function cronJson(c: CronView): string {
  return cronEntry(c);
}

export function cronsJson(crons: readonly CronView[]): string {
  return listJson(crons, cronEntry);
}

/** STATS members without braces: `"queued":a,"processing":b,"delayed":c,"dlq":d`. */
export function statsMembers(s: Stats): string {
  return '"queued":' + s.queued + ',"processing":' + s.processing + ',"delayed":' + s.delayed + ',"dlq":' + s.dlq;
}

/** METRICS object: totals, rates and per-queue name, pending, processing, dlq, rate_limit. */
export function metricsJson(c: Counters, queues: readonly QueueInfo[], jobsPerSecond: number, avgLatencyMs: number): string {
  return (
    '{"total_pushed":' +
    c.totalPushed +
    ',"total_completed":' +
    c.totalCompleted +
    ',"total_failed":' +
    c.totalFailed +
    ',"jobs_per_second":' +
    realJson(jobsPerSecond) +
    ',"avg_latency_ms":' +
    realJson(avgLatencyMs) +
    ',"queues":' +
    listJson(queues, metricsQueueEntry) +
    '}'
  );
}
