import type { RestoreInput, RestoredJob } from '../engine/api.js';
import { PARTITIONS, type JobState, type QueueSettings } from '../engine/types.js';
import type { Sql } from './connection.js';
import { copyValue, readCopy } from './copy-out.js';
import { FENCE_STATEMENT, fenceParameters, type Hold } from './fence.js';
import { ownedBy, type Ownership } from './transaction.js';

// Jobs are read with COPY (copy-out.ts), columns in this order; arrays come back as JSON text
// (no array parsing in the client), NULL when empty.
const JOB_SELECT =
  'select id, queue, state, data, priority, created_at, run_at, started_at, attempts, max_attempts, backoff, ' +
  'ttl, timeout, unique_key, array_to_json(depends_on)::text, array_to_json(tags)::text, ' +
  'lifo, progress, progress_msg, result, error, finished_at from flashq_jobs';

const FINISHED = "('completed', 'failed')";

const STATES: ReadonlySet<string> = new Set(['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children']);

function toJob(c: string[]): RestoredJob {
  if (c.length !== 22) throw new Error(`a stored job row has ${c.length} columns, expected 22`);
  const id = Number(c[0]);
  const state = c[2]!;
  if (!STATES.has(state)) throw new Error(`job ${id} has an unknown state ${JSON.stringify(state)}`);
  const createdAt = Number(c[5]);
  const runAt = Number(c[6]);
  const deps = copyValue(c[14]!);
  const tags = copyValue(c[15]!);
  return {
    id,
    queue: copyValue(c[1]!)!,
    state: state as Exclude<JobState, 'unknown'>,
    data: copyValue(c[3]!)!,
    priority: Number(c[4]),
    delay: Math.max(0, runAt - createdAt),
    ttl: Number(c[11]),
    timeout: Number(c[12]),
    maxAttempts: Number(c[9]),
    backoff: Number(c[10]),
    uniqueKey: copyValue(c[13]!),
    dependsOn: deps === null ? [] : (JSON.parse(deps) as number[]),
    tags: tags === null ? [] : (JSON.parse(tags) as string[]),
    lifo: c[16] === 't',
    createdAt,
    runAt,
    startedAt: Number(c[7]),
    attempts: Number(c[8]),
    progress: Number(c[17]),
    progressMsg: copyValue(c[18]!),
    result: copyValue(c[19]!),
    error: copyValue(c[20]!),
    finishedAt: Number(c[21]),
  };
}

/**
 * Everything a shard needs to restore its engine: every live job of its partitions (in id order,
 * which within a queue is push order), its newest `keepFinished` completed/failed jobs (oldest
 * first, the retention order), queue settings, crons and id sequences. Finished rows beyond the
 * bound (left by a smaller KEEP_COMPLETED than before) are deleted so they cannot come back.
 */
export function loadShard(sql: Sql, owner: Ownership, keepFinished: number): Promise<RestoreInput> {
  return loadWhere(sql, ownedBy(owner), keepFinished, null);
}

/** How a cluster node proves, inside the reload's transaction, that it holds what it reads. */
export interface LoadFence {
  nodeId: string;
  idleMs: number;
}

/**
 * The same for the partitions a cluster node took (`holds`, at the epochs it took them): the
 * read runs behind the fence, so it sees every commit of the previous owner and trims finished
 * rows only while this node holds the partitions. `partitions` of the result lists them.
 */
export async function loadPartitions(sql: Sql, holds: ReadonlyArray<Hold>, keepFinished: number, fence: LoadFence): Promise<RestoreInput> {
  const parts = holds.map((h) => h.partition);
  for (const p of parts) if (!Number.isInteger(p) || p < 0 || p >= PARTITIONS) throw new Error(`partition ${p} is out of range`);
  if (parts.length === 0) return { jobs: [], queues: [], crons: [], seqs: [], partitions: [] };
  const input = await loadWhere(sql, `partition = any('{${parts.join(',')}}'::smallint[])`, keepFinished, fenceParameters(fence.nodeId, holds, fence.idleMs));
  input.partitions = parts;
  return input;
}

async function loadWhere(sql: Sql, mine: string, keepFinished: number, fence: unknown[] | null): Promise<RestoreInput> {
  return sql.begin('isolation level repeatable read', async (tx) => {
    if (fence !== null) await tx.unsafe(FENCE_STATEMENT, fence as never[]);
    const jobs: RestoredJob[] = [];
    await readCopy(tx, `copy (${JOB_SELECT} where state not in ${FINISHED} and ${mine} order by id) to stdout`, (c) => jobs.push(toJob(c)));
    const finished: RestoredJob[] = [];
    await readCopy(
      tx,
      `copy (${JOB_SELECT} where state in ${FINISHED} and ${mine} order by finished_at desc, id desc limit ${Math.max(0, keepFinished)}) to stdout`,
      (c) => finished.push(toJob(c)),
    );
    const queues = await tx.unsafe<Array<{ name: string; paused: boolean; rate_limit: number | null; concurrency_limit: number | null }>>(
      `select name, paused, rate_limit, concurrency_limit from flashq_queues where ${mine}`,
    );
    const crons = await tx.unsafe<Array<{ name: string; queue: string; schedule: string; data: string; priority: number; next_run: number }>>(
      `select name, queue, schedule, data, priority, next_run from flashq_crons where ${mine} order by name`,
    );
    const seqs = await tx.unsafe<Array<{ partition: number; seq: number }>>(`select partition, seq from flashq_sequences where ${mine}`);
    for (let i = finished.length - 1; i >= 0; i--) jobs.push(finished[i]!);
    const oldest = finished[finished.length - 1];
    if (oldest !== undefined && finished.length >= keepFinished) {
      await tx.unsafe(
        `delete from flashq_jobs where state in ${FINISHED} and ${mine} and (finished_at, id) < ($1::bigint, $2::bigint)`,
        [oldest.finishedAt, oldest.id],
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
