import { partitionOf, partitionOfId } from '../engine/partition.js';
import { PARTITIONS, type Changes, type CronFiring, type CronView, type JobView, type QueueSettings } from '../engine/types.js';
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
  /**
   * Cluster mode only (else null): every partition the set writes, ascending — the commit fences
   * exactly these.
   */
  partitions: number[] | null;
  /**
   * Cluster mode only: crons fired by the clock whose stored row no command of this merge rewrote
   * before, with the next run the first firing saw and the one the last left (compare-and-set).
   */
  cronFires: CronFiring[];
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

/**
 * Merge the Changes of several turns (oldest first) and render them. `cluster` adds what a
 * fenced commit needs: the partitions written and the crons' compare-and-sets.
 */
export function buildWriteSet(turns: readonly Changes[], cluster = false): WriteSet {
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
  const cronFires = cluster ? mergeFirings(turns) : NO_FIRINGS;
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
    partitions: cluster ? partitionsWritten(turns, cronFires) : null,
    cronFires,
  };
}

const NO_FIRINGS: CronFiring[] = [];

/**
 * Firings to compare-and-set: per cron, the next run before its first firing in the merge and
 * after its last one, unless a command rewrote its row earlier in the merge (the row then holds
 * the command's view, which this node wrote itself).
 */
function mergeFirings(turns: readonly Changes[]): CronFiring[] {
  let out: Map<string, CronFiring> | null = null;
  let rewritten: Set<string> | null = null;
  for (const c of turns) {
    for (const f of c.cronsFired) {
      if (rewritten?.has(f.name)) continue;
      const earlier = (out ??= new Map()).get(f.name);
      if (earlier !== undefined) earlier.next = f.next;
      else out.set(f.name, { ...f });
    }
    // this turn's own rewrites (a firing in the same turn was recorded only if it came first)
    const fired = c.cronsFired.length === 0 ? null : new Set(c.cronsFired.map((f) => f.name));
    for (const cr of c.cronsUpserted) if (fired === null || !fired.has(cr.name)) (rewritten ??= new Set()).add(cr.name);
    for (const name of c.cronsDeleted) (rewritten ??= new Set()).add(name);
  }
  return out === null ? NO_FIRINGS : [...out.values()];
}

/** Every partition the merged turns write (job ids carry theirs, queues and crons hash theirs). */
function partitionsWritten(turns: readonly Changes[], fires: readonly CronFiring[]): number[] {
  const mark = new Uint8Array(PARTITIONS);
  for (const c of turns) {
    // views reading `unknown` are not written (see buildWriteSet): they fence nothing
    for (let i = 0; i < c.inserted.length; i++) {
      const v = c.inserted[i]!;
      if (v.state !== 'unknown') mark[partitionOfId(v.id)] = 1;
    }
    for (let i = 0; i < c.updated.length; i++) {
      const v = c.updated[i]!;
      if (v.state !== 'unknown') mark[partitionOfId(v.id)] = 1;
    }
    for (let i = 0; i < c.deleted.length; i++) mark[partitionOfId(c.deleted[i]!)] = 1;
    for (const q of c.queues) mark[partitionOf(q.name)] = 1;
    for (const cr of c.cronsUpserted) mark[partitionOf(cr.queue)] = 1;
    for (const p of c.cronPartitions) mark[p] = 1;
    for (const s of c.seqs) mark[s.partition] = 1;
  }
  for (const f of fires) mark[f.partition] = 1;
  const out: number[] = [];
  for (let p = 0; p < PARTITIONS; p++) if (mark[p] === 1) out.push(p);
  return out;
}
