import type { JobView } from '../engine/types.js';
import type { AnswerWriter } from './answer-writer.js';

/**
 * JSON text of jobs for answers, by concatenation: the job's data (already JSON text) is
 * inserted as it is, never parsed and re-serialised. Key order is compat.md's JOB:
 * id, queue, data, priority, created_at, run_at, started_at, attempts, max_attempts, backoff,
 * ttl, timeout, unique_key, depends_on, progress, progress_msg, tags, lifo.
 */

export function stringOrNull(s: string | null): string {
  return s === null ? 'null' : JSON.stringify(s);
}

/** A real number as JSON (NaN and infinities have no JSON form: 0). */
export function realJson(n: number): string {
  return Number.isFinite(n) ? String(n) : '0';
}

function idsJson(ids: readonly number[]): string {
  return ids.length === 0 ? '[]' : '[' + ids.join(',') + ']';
}

function tagsJson(tags: readonly string[]): string {
  return tags.length === 0 ? '[]' : JSON.stringify(tags);
}

/** The JOB object's members without the closing brace, so views can append theirs. */
function jobMembers(w: AnswerWriter, j: JobView): string {
  return (
    '{"id":' +
    j.id +
    ',"queue":' +
    w.queueJson(j.queue) +
    ',"data":' +
    j.data +
    ',"priority":' +
    j.priority +
    ',"created_at":' +
    j.createdAt +
    ',"run_at":' +
    j.runAt +
    ',"started_at":' +
    j.startedAt +
    ',"attempts":' +
    j.attempts +
    ',"max_attempts":' +
    j.maxAttempts +
    ',"backoff":' +
    j.backoff +
    ',"ttl":' +
    (j.ttl === 0 ? 'null' : j.ttl) +
    ',"timeout":' +
    (j.timeout === 0 ? 'null' : j.timeout) +
    ',"unique_key":' +
    stringOrNull(j.uniqueKey) +
    ',"depends_on":' +
    idsJson(j.dependsOn) +
    ',"progress":' +
    j.progress +
    ',"progress_msg":' +
    stringOrNull(j.progressMsg) +
    ',"tags":' +
    tagsJson(j.tags) +
    ',"lifo":' +
    j.lifo
  );
}

/** compat.md's JOB (TCP answers). */
export function jobJson(w: AnswerWriter, j: JobView): string {
  return jobMembers(w, j) + '}';
}

/** An HTTP job view: JOB plus `state`. */
export function jobJsonWithState(w: AnswerWriter, j: JobView): string {
  return jobMembers(w, j) + ',"state":"' + j.state + '"}';
}

/** HTTP GET /jobs/{id}: JOB plus `state`, `result` and the last failure's text (`error`). */
export function jobJsonWithResult(w: AnswerWriter, j: JobView): string {
  return jobMembers(w, j) + ',"state":"' + j.state + '","result":' + (j.result ?? 'null') + ',"error":' + stringOrNull(j.error) + '}';
}

/** A JSON array of jobs rendered by `one`, written job by job (see AnswerWriter). */
export function writeJobs(w: AnswerWriter, jobs: readonly JobView[], one: (w: AnswerWriter, j: JobView) => string): void {
  w.byte(0x5b);
  for (let i = 0; i < jobs.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.text(one(w, jobs[i]!));
  }
  w.byte(0x5d);
}
