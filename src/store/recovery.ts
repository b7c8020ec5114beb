import type { RestoreInput, RestoredJob } from '../engine/api.js';
import { PARTITIONS, type JobState, type QueueSettings } from '../engine/types.js';
import type { Sql } from './connection.js';
import { ownedBy, type Ownership } from './transaction.js';

interface JobRow {
  id: number;
  queue: string;
  state: string;
  data: string;
  priority: number;
  created_at: number;
  run_at: number;
  started_at: number;
  attempts: number;
  max_attempts: number;
  backoff: number;
  ttl: number;
  timeout: number;
  unique_key: string | null;
  depends_on: string;
  tags: string;
  lifo: boolean;
  progress: number;
  progress_msg: string | null;
  result: string | null;
  error: string | null;
  finished_at: number;
}

// arrays come back as JSON text: no array type fetch at connect, one parse per row
const SELECT_JOBS =
  'select id, queue, state, data, priority, created_at, run_at, started_at, attempts, max_attempts, backoff, ' +
  "ttl, timeout, unique_key, coalesce(array_to_json(depends_on)::text, '[]') as depends_on, " +
  "coalesce(array_to_json(tags)::text, '[]') as tags, " +
  'lifo, progress, progress_msg, result, error, finished_at from flashq_jobs';

const FINISHED = "('completed', 'failed')";

const STATES: ReadonlySet<string> = new Set(['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children']);

function toJob(r: JobRow): RestoredJob {
  if (!STATES.has(r.state)) throw new Error(`job ${r.id} has an unknown state ${JSON.stringify(r.state)}`);
  return {
    id: r.id,
    queue: r.queue,
    state: r.state as Exclude<JobState, 'unknown'>,
    data: r.data,
    priority: r.priority,
    delay: Math.max(0, r.run_at - r.created_at),
    ttl: r.ttl,
    timeout: r.timeout,
    maxAttempts: r.max_attempts,
    backoff: r.backoff,
    uniqueKey: r.unique_key,
    dependsOn: JSON.parse(r.depends_on) as number[],
    tags: JSON.parse(r.tags) as string[],
    lifo: r.lifo,
    createdAt: r.created_at,
    runAt: r.run_at,
    startedAt: r.started_at,
    attempts: r.attempts,
    progress: r.progress,
    progressMsg: r.progress_msg,
    result: r.result,
    error: r.error,
    finishedAt: r.finished_at,
  };
}

/**
 * Everything a shard needs to restore its engine: every live job of its partitions (in id order,
 * which within a queue is push order), its newest `keepFinished` completed/failed jobs (oldest
 * first, the retention order), queue settings, crons and id sequences. Finished rows beyond the
 * bound (left by a smaller KEEP_COMPLETED than before) are deleted so they cannot come back.
 */
export async function loadShard(sql: Sql, owner: Ownership, keepFinished: number): Promise<RestoreInput> {
  const mine = ownedBy(owner);
  return sql.begin('isolation level repeatable read', async (tx) => {
    const live = await tx.unsafe<JobRow[]>(`${SELECT_JOBS} where state not in ${FINISHED} and ${mine} order by id`);
    const finished = await tx.unsafe<JobRow[]>(
      `${SELECT_JOBS} where state in ${FINISHED} and ${mine} order by finished_at desc, id desc limit ${Math.max(0, keepFinished)}`,
    );
    const queues = await tx.unsafe<Array<{ name: string; paused: boolean; rate_limit: number | null; concurrency_limit: number | null }>>(
      `select name, paused, rate_limit, concurrency_limit from flashq_queues where ${mine}`,
    );
    const crons = await tx.unsafe<Array<{ name: string; queue: string; schedule: string; data: string; priority: number; next_run: number }>>(
      `select name, queue, schedule, data, priority, next_run from flashq_crons where ${mine} order by name`,
    );
    const seqs = await tx.unsafe<Array<{ partition: number; seq: number }>>(`select partition, seq from flashq_sequences where ${mine}`);
    const jobs: RestoredJob[] = live.map(toJob);
    for (let i = finished.length - 1; i >= 0; i--) jobs.push(toJob(finished[i]!));
    const oldest = finished[finished.length - 1];
    if (oldest !== undefined && finished.length >= keepFinished) {
      await tx.unsafe(
        `delete from flashq_jobs where state in ${FINISHED} and ${mine} and (finished_at, id) < ($1::bigint, $2::bigint)`,
        [oldest.finished_at, oldest.id],
      );
    }
    // ids must never be reused: trust the larger of the stored sequence and the ids present
    const seqOf = new Map<number, number>(seqs.map((s) => [s.partition, s.seq]));
    for (const j of jobs) {
      const p = j.id % PARTITIONS;
      const seq = (j.id - p) / PARTITIONS;
      if (seq > (seqOf.get(p) ?? 0)) seqOf.set(p, seq);
    }
    return {
      jobs,
      queues: queues.map(
        (q): QueueSettings => ({ name: q.name, paused: q.paused, rateLimit: q.rate_limit, concurrencyLimit: q.concurrency_limit }),
      ),
      crons: crons.map((c) => ({ name: c.name, queue: c.queue, schedule: c.schedule, data: c.data, priority: c.priority, nextRun: c.next_run })),
      seqs: [...seqOf].map(([partition, seq]) => ({ partition, seq })),
    };
  });
}
