import type { AnswerWriter } from './answer-writer.js';
import type { ReqId } from './decode-error.js';
import { errors, type FlashqError } from '../base/errors.js';
import { cronsJson, metricsJson, queuesJson, statsMembers } from './info-json.js';
import { jobJson, stringOrNull, writeJobs } from './job-json.js';
import type { Request } from './request.js';
import type { Result } from './result.js';

/**
 * TCP answers as compat.md's table, one JSON line each: `ok` first, then `reqId` when the request
 * had one, then the command's members.
 */

function reqIdJson(reqId: string | number): string {
  return typeof reqId === 'number' ? String(reqId) : JSON.stringify(reqId);
}

/** `[id,…]` straight into the answer (a string per id and a rope of them cost ~95 B per job). */
function writeIds(w: AnswerWriter, jobs: readonly { id: number }[]): void {
  w.byte(0x5b);
  for (let i = 0; i < jobs.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.uint(jobs[i]!.id);
  }
  w.byte(0x5d);
}

/** The members after `ok`/`reqId`, each led by a comma; '' for a bare `{"ok":true}`. */
function members(w: AnswerWriter, request: Request, result: Result): string {
  switch (result.kind) {
    case 'pushed':
      if (request.cmd === 'PUSH') {
        const job = result.jobs[0];
        if (job === undefined) throw errors.internal('PUSH produced no job');
        return ',"id":' + job.id;
      }
      w.text(',"ids":');
      writeIds(w, result.jobs);
      return '';
    case 'jobs':
      if (request.cmd === 'PULL') {
        const job = result.jobs[0];
        return ',"job":' + (job === undefined ? 'null' : jobJson(w, job));
      }
      w.text(',"jobs":');
      writeJobs(w, result.jobs, jobJson);
      return '';
    case 'ok':
    case 'cron':
      return '';
    case 'count':
      // ACKB and RETRYDLQ: the count in a one-element array (clients read ids[0])
      return ',"ids":[' + result.count + ']';
    case 'job':
      return ',"job":' + (result.job === null ? 'null' : jobJson(w, result.job)) + ',"state":"' + result.state + '"';
    case 'state':
      return ',"id":' + result.id + ',"state":"' + result.state + '"';
    case 'result':
      return ',"id":' + result.id + ',"result":' + (result.result ?? 'null');
    case 'progress':
      return ',"progress":{"id":' + result.id + ',"progress":' + result.progress + ',"message":' + stringOrNull(result.message) + '}';
    case 'queues':
      return ',"queues":' + queuesJson(result.queues);
    case 'crons':
      return ',"crons":' + cronsJson(result.crons);
    case 'stats':
      return ',' + statsMembers(result.stats);
    case 'metrics':
      return ',"metrics":' + metricsJson(result.counters, result.queues, result.jobsPerSecond, result.avgLatencyMs);
  }
}

export function writeTcpJsonAnswer(w: AnswerWriter, request: Request, result: Result, reqId: ReqId): void {
  w.text(reqId === null ? '{"ok":true' : '{"ok":true,"reqId":' + reqIdJson(reqId));
  w.text(members(w, request, result) + '}\n');
}

export function tcpJsonError(err: FlashqError, reqId: ReqId): string {
  return (
    (reqId === null ? '{"ok":false' : '{"ok":false,"reqId":' + reqIdJson(reqId)) +
    ',"data":null,"error":' +
    JSON.stringify(err.message) +
    '}\n'
  );
}
