import type { CronView, JobView, QueueInfo } from '../engine/types.js';
import type { ReqId } from './decode-error.js';
import { errors, type FlashqError } from '../base/errors.js';
import { constStr, MsgpackWriter } from './msgpack-writer.js';
import type { Request } from './request.js';
import type { Result } from './result.js';

/**
 * TCP MessagePack answers: the same maps as the JSON answers (same keys, same order), payloads
 * as the MessagePack of their JSON value, length-prefixed.
 */

const K = {
  ok: constStr('ok'),
  reqId: constStr('reqId'),
  id: constStr('id'),
  ids: constStr('ids'),
  job: constStr('job'),
  jobs: constStr('jobs'),
  state: constStr('state'),
  result: constStr('result'),
  progress: constStr('progress'),
  message: constStr('message'),
  queues: constStr('queues'),
  crons: constStr('crons'),
  queued: constStr('queued'),
  processing: constStr('processing'),
  delayed: constStr('delayed'),
  dlq: constStr('dlq'),
  metrics: constStr('metrics'),
  data: constStr('data'),
  error: constStr('error'),
  queue: constStr('queue'),
  priority: constStr('priority'),
  created_at: constStr('created_at'),
  run_at: constStr('run_at'),
  started_at: constStr('started_at'),
  attempts: constStr('attempts'),
  max_attempts: constStr('max_attempts'),
  backoff: constStr('backoff'),
  ttl: constStr('ttl'),
  timeout: constStr('timeout'),
  unique_key: constStr('unique_key'),
  depends_on: constStr('depends_on'),
  progress_msg: constStr('progress_msg'),
  tags: constStr('tags'),
  lifo: constStr('lifo'),
  name: constStr('name'),
  pending: constStr('pending'),
  paused: constStr('paused'),
  rate_limit: constStr('rate_limit'),
  concurrency_limit: constStr('concurrency_limit'),
  schedule: constStr('schedule'),
  next_run: constStr('next_run'),
  total_pushed: constStr('total_pushed'),
  total_completed: constStr('total_completed'),
  total_failed: constStr('total_failed'),
  jobs_per_second: constStr('jobs_per_second'),
  avg_latency_ms: constStr('avg_latency_ms'),
};

/** The answer writer of one encoder: a MessagePack writer that remembers the last queue name. */
export class MsgpackAnswerWriter extends MsgpackWriter {
  // Answers usually carry many jobs of one queue: encode its name once.
  private lastQueue = '';
  private lastQueueBytes = constStr('');

  queueName(q: string): void {
    if (q !== this.lastQueue) {
      if (Buffer.byteLength(q, 'utf8') >= 32) {
        this.str(q);
        return;
      }
      this.lastQueueBytes = constStr(q);
      this.lastQueue = q;
    }
    this.raw(this.lastQueueBytes);
  }
}

function job(w: MsgpackAnswerWriter, j: JobView): void {
  w.map(18);
  w.raw(K.id).num(j.id);
  w.raw(K.queue);
  w.queueName(j.queue);
  w.raw(K.data).json(j.data);
  w.raw(K.priority).num(j.priority);
  w.raw(K.created_at).num(j.createdAt);
  w.raw(K.run_at).num(j.runAt);
  w.raw(K.started_at).num(j.startedAt);
  w.raw(K.attempts).num(j.attempts);
  w.raw(K.max_attempts).num(j.maxAttempts);
  w.raw(K.backoff).num(j.backoff);
  w.raw(K.ttl).numOrNil(j.ttl === 0 ? null : j.ttl);
  w.raw(K.timeout).numOrNil(j.timeout === 0 ? null : j.timeout);
  w.raw(K.unique_key).strOrNil(j.uniqueKey);
  w.raw(K.depends_on).array(j.dependsOn.length);
  for (const id of j.dependsOn) w.num(id);
  w.raw(K.progress).num(j.progress);
  w.raw(K.progress_msg).strOrNil(j.progressMsg);
  w.raw(K.tags).array(j.tags.length);
  for (const t of j.tags) w.str(t);
  w.raw(K.lifo).bool(j.lifo);
}

function jobs(w: MsgpackAnswerWriter, list: readonly JobView[]): void {
  w.array(list.length);
  for (let i = 0; i < list.length; i++) job(w, list[i]!);
}

function queueEntry(w: MsgpackAnswerWriter, q: QueueInfo): void {
  w.map(7);
  w.raw(K.name).str(q.name);
  w.raw(K.pending).num(q.pending);
  w.raw(K.processing).num(q.processing);
  w.raw(K.dlq).num(q.dlq);
  w.raw(K.paused).bool(q.paused);
  w.raw(K.rate_limit).numOrNil(q.rateLimit);
  w.raw(K.concurrency_limit).numOrNil(q.concurrencyLimit);
}

function cronEntry(w: MsgpackAnswerWriter, c: CronView): void {
  w.map(6);
  w.raw(K.name).str(c.name);
  w.raw(K.queue).str(c.queue);
  w.raw(K.data).json(c.data);
  w.raw(K.schedule).str(c.schedule);
  w.raw(K.priority).num(c.priority);
  w.raw(K.next_run).num(c.nextRun);
}

function real(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

/** Members after ok/reqId, as encode-tcp-json writes them. */
function memberCount(result: Result): number {
  switch (result.kind) {
    case 'ok':
    case 'cron':
      return 0;
    case 'job':
    case 'state':
    case 'result':
      return 2;
    case 'stats':
      return 4;
    default:
      return 1;
  }
}

function members(w: MsgpackAnswerWriter, request: Request, result: Result): void {
  switch (result.kind) {
    case 'pushed':
      if (request.cmd === 'PUSH') {
        const first = result.jobs[0];
        if (first === undefined) throw errors.internal('PUSH produced no job');
        w.raw(K.id).num(first.id);
      } else {
        w.raw(K.ids).array(result.jobs.length);
        for (const j of result.jobs) w.num(j.id);
      }
      return;
    case 'jobs':
      if (request.cmd === 'PULL') {
        const first = result.jobs[0];
        w.raw(K.job);
        if (first === undefined) w.nil();
        else job(w, first);
      } else {
        w.raw(K.jobs);
        jobs(w, result.jobs);
      }
      return;
    case 'ok':
    case 'cron':
      return;
    case 'count':
      w.raw(K.ids).array(1).num(result.count);
      return;
    case 'job':
      w.raw(K.job);
      if (result.job === null) w.nil();
      else job(w, result.job);
      w.raw(K.state).str(result.state);
      return;
    case 'state':
      w.raw(K.id).num(result.id).raw(K.state).str(result.state);
      return;
    case 'result':
      w.raw(K.id).num(result.id).raw(K.result);
      if (result.result === null) w.nil();
      else w.json(result.result);
      return;
    case 'progress':
      w.raw(K.progress).map(3).raw(K.id).num(result.id).raw(K.progress).num(result.progress).raw(K.message).strOrNil(result.message);
      return;
    case 'queues':
      w.raw(K.queues).array(result.queues.length);
      for (const q of result.queues) queueEntry(w, q);
      return;
    case 'crons':
      w.raw(K.crons).array(result.crons.length);
      for (const c of result.crons) cronEntry(w, c);
      return;
    case 'stats': {
      const s = result.stats;
      w.raw(K.queued).num(s.queued).raw(K.processing).num(s.processing).raw(K.delayed).num(s.delayed).raw(K.dlq).num(s.dlq);
      return;
    }
    case 'metrics': {
      const c = result.counters;
      w.raw(K.metrics).map(6);
      w.raw(K.total_pushed).num(c.totalPushed);
      w.raw(K.total_completed).num(c.totalCompleted);
      w.raw(K.total_failed).num(c.totalFailed);
      w.raw(K.jobs_per_second).num(real(result.jobsPerSecond));
      w.raw(K.avg_latency_ms).num(real(result.avgLatencyMs));
      w.raw(K.queues).array(result.queues.length);
      for (const q of result.queues) {
        w.map(5).raw(K.name).str(q.name).raw(K.pending).num(q.pending).raw(K.processing).num(q.processing);
        w.raw(K.dlq).num(q.dlq).raw(K.rate_limit).numOrNil(q.rateLimit);
      }
      return;
    }
  }
}

function reqIdMember(w: MsgpackAnswerWriter, reqId: ReqId): void {
  if (reqId === null) return;
  w.raw(K.reqId);
  if (typeof reqId === 'number') w.num(reqId);
  else w.str(reqId);
}

export function msgpackAnswer(writer: MsgpackAnswerWriter, request: Request, result: Result, reqId: ReqId): Buffer {
  const w = writer.begin();
  w.map(1 + (reqId === null ? 0 : 1) + memberCount(result));
  w.raw(K.ok).bool(true);
  reqIdMember(w, reqId);
  members(w, request, result);
  return w.finish();
}

export function msgpackError(writer: MsgpackAnswerWriter, err: FlashqError, reqId: ReqId): Buffer {
  const w = writer.begin();
  w.map(reqId === null ? 3 : 4);
  w.raw(K.ok).bool(false);
  reqIdMember(w, reqId);
  w.raw(K.data).nil().raw(K.error).str(err.message);
  return w.finish();
}
