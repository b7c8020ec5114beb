import { partitionOfId } from '../engine/partition.js';
import type { Changes, CronView, JobView, QueueSettings } from '../engine/types.js';
import { copyText, copyTextOrNull, intArray, textArray } from './copy-text.js';
import { groupable, UpdateGrouper, type UpdateGroup } from './update-groups.js';

/**
 * What one transaction writes: the Changes of every turn merged into it, rendered for COPY and
 * for a few multi-row statements.
 *
 * Job views are live (src/engine/job.ts), so rows are read here, once, when the transaction
 * starts. Every turn that ran before that instant is part of this merge (turns are synchronous
 * and each hands its Changes over at its end), so the rows are one consistent cut of the
 * engine: a job whose view already reads `unknown` was deleted by a turn of this same merge,
 * and only its delete is written.
 */
export interface WriteSet {
  /** COPY rows for flashq_jobs (new jobs) */
  inserts: string;
  insertCount: number;
  /** updates of many jobs sharing their new values (see update-groups.ts) */
  updateGroups: UpdateGroup[];
  /** COPY rows for the update stage (the other updates of existing jobs) */
  updates: string;
  /** all updated jobs: grouped and staged */
  updateCount: number;
  /** bigint[] literal of ids to delete, or null */
  deleted: string | null;
  queuesUpsert: QueueSettings[];
  queuesDelete: string[];
  /** every cron name created, replaced or deleted (their rows are rewritten) */
  cronNames: string[];
  cronsUpsert: CronView[];
  seqs: Map<number, number>;
}

export function isEmptyChanges(c: Changes): boolean {
  return (
    c.inserted.length === 0 &&
    c.updated.length === 0 &&
    c.deleted.length === 0 &&
    c.queues.length === 0 &&
    c.cronsUpserted.length === 0 &&
    c.cronsDeleted.length === 0 &&
    c.seqs.length === 0
  );
}

/** Full row for flashq_jobs, in JOB_COLUMNS order. */
export function jobRow(v: JobView): string {
  return (
    `${v.id}\t${copyText(v.queue)}\t${partitionOfId(v.id)}\t${v.state}\t${copyText(v.data)}\t${v.priority}\t` +
    `${v.createdAt}\t${v.runAt}\t${v.startedAt}\t${v.attempts}\t${v.maxAttempts}\t${v.backoff}\t${v.ttl}\t${v.timeout}\t` +
    `${copyTextOrNull(v.uniqueKey)}\t${v.dependsOn.length === 0 ? '\\N' : intArray(v.dependsOn)}\t` +
    `${v.tags.length === 0 ? '\\N' : textArray(v.tags)}\t${v.lifo ? 't' : 'f'}\t` +
    `${v.progress}\t${copyTextOrNull(v.progressMsg)}\t${copyTextOrNull(v.result)}\t${copyTextOrNull(v.error)}\t${v.finishedAt}\n`
  );
}

/** The mutable part of a job, in STAGE_COLUMNS order. */
export function stageRow(v: JobView): string {
  return (
    `${v.id}\t${v.state}\t${v.createdAt}\t${v.runAt}\t${v.startedAt}\t${v.attempts}\t${v.progress}\t` +
    `${copyTextOrNull(v.progressMsg)}\t${copyTextOrNull(v.result)}\t${copyTextOrNull(v.error)}\t${v.finishedAt}\n`
  );
}

function isDefault(q: QueueSettings): boolean {
  return !q.paused && q.rateLimit === null && q.concurrencyLimit === null;
}

/** Merge the Changes of several turns (oldest first) and render them. */
export function buildWriteSet(turns: readonly Changes[]): WriteSet {
  // Each turn hands out views of its own, so a job touched by several turns of this merge has
  // several (live, equal) views: it is written once, by id. One turn needs no such check.
  const merged = turns.length > 1;
  const seen = new Set<number>();
  let inserts = '';
  let insertCount = 0;
  for (const c of turns) {
    for (const v of c.inserted) {
      if (v.state === 'unknown') continue;
      if (merged) {
        if (seen.has(v.id)) continue;
        seen.add(v.id);
      }
      inserts += jobRow(v);
      insertCount++;
    }
  }
  let updates = '';
  let updateCount = 0;
  const grouper = new UpdateGrouper();
  let retimed: Set<number> | null = null;
  for (const c of turns) for (const id of c.retimed) (retimed ??= new Set()).add(id);
  for (const c of turns) {
    for (const v of c.updated) {
      if (v.state === 'unknown') continue;
      if (merged) {
        if (seen.has(v.id)) continue;
        seen.add(v.id);
      }
      if (groupable(v, retimed)) grouper.add(v);
      else updates += stageRow(v);
      updateCount++;
    }
  }
  const updateGroups = grouper.take((v) => (updates += stageRow(v)));
  let deletedIds: number[] | null = null;
  const queues = new Map<string, QueueSettings>();
  const crons = new Map<string, CronView | null>();
  const seqs = new Map<number, number>();
  for (const c of turns) {
    if (c.deleted.length > 0) (deletedIds ??= []).push(...c.deleted);
    for (const q of c.queues) queues.set(q.name, q);
    for (const cr of c.cronsUpserted) crons.set(cr.name, cr);
    for (const name of c.cronsDeleted) crons.set(name, null);
    for (const s of c.seqs) seqs.set(s.partition, Math.max(s.seq, seqs.get(s.partition) ?? 0));
  }
  const queuesUpsert: QueueSettings[] = [];
  const queuesDelete: string[] = [];
  for (const q of queues.values()) (isDefault(q) ? queuesDelete.push(q.name) : queuesUpsert.push(q));
  const cronsUpsert: CronView[] = [];
  for (const cr of crons.values()) if (cr !== null) cronsUpsert.push(cr);
  return {
    inserts,
    insertCount,
    updateGroups,
    updates,
    updateCount,
    deleted: deletedIds === null ? null : intArray(deletedIds),
    queuesUpsert,
    queuesDelete,
    cronNames: [...crons.keys()],
    cronsUpsert,
    seqs,
  };
}
