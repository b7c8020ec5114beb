import type { AnswerWriter } from './answer-writer.js';
import { errors, type FlashqError, HTTP_STATUS } from '../base/errors.js';
import { cronJson, cronsJson, httpQueuesJson, metricsJson, statsMembers } from './info-json.js';
import { jobJsonWithResult, jobJsonWithState, stringOrNull, writeJobs } from './job-json.js';
import type { Request } from './request.js';
import type { Result } from './result.js';

/**
 * HTTP bodies: the `{"ok":…,"data":…,"error":…}` envelope. Job views are JOB plus `state`
 * (GET /jobs/{id} adds `result`). The status of a success is 200; errors use httpStatusOf.
 */

/** The `data` member's JSON; job lists are written to `w` directly (returning ''). */
function data(w: AnswerWriter, request: Request, result: Result): string {
  switch (result.kind) {
    case 'pushed':
      if (request.cmd === 'PUSH') {
        const job = result.jobs[0];
        if (job === undefined) throw errors.internal('PUSH produced no job');
        return jobJsonWithState(w, job);
      }
      return '{"ids":[' + result.jobs.map((j) => j.id).join(',') + ']}';
    case 'jobs':
      writeJobs(w, result.jobs, jobJsonWithState);
      return '';
    case 'ok':
      return 'null';
    case 'count':
      return String(result.count);
    case 'job':
      // the document's own error example: an unknown id is `Job N not found`
      if (result.job === null) throw errors.jobNotFound(request.cmd === 'GETJOB' ? request.id : '?');
      return jobJsonWithResult(w, result.job);
    case 'state':
      return '{"id":' + result.id + ',"state":"' + result.state + '"}';
    case 'result':
      return result.result ?? 'null';
    case 'progress':
      return '[' + result.progress + ',' + stringOrNull(result.message) + ']';
    case 'queues':
      return httpQueuesJson(result.queues);
    case 'crons':
      return cronsJson(result.crons);
    case 'cron':
      return cronJson(result.cron);
    case 'stats':
      return '{' + statsMembers(result.stats) + '}';
    case 'metrics':
      return metricsJson(result.counters, result.queues, result.jobsPerSecond, result.avgLatencyMs);
  }
}

/**
 * Throws the FlashqError when this surface renders the result as an error (GET /jobs/{id} of an
 * unknown id): render that with httpError and httpStatusOf.
 */
export function writeHttpAnswer(w: AnswerWriter, request: Request, result: Result): void {
  w.text('{"ok":true,"data":');
  w.text(data(w, request, result) + ',"error":null}');
}

export function httpError(err: FlashqError): string {
  return '{"ok":false,"data":null,"error":' + JSON.stringify(err.message) + '}';
}

export function httpStatusOf(err: FlashqError): number {
  return HTTP_STATUS[err.code] ?? 500;
}
