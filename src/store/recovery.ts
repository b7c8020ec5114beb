import type { RestoreInput } from '../engine/api.js';
import { JobRows, SEGMENT_MASK, STORED_STATES } from '../engine/job-rows.js';
import { PARTITIONS, type QueueSettings } from '../engine/types.js';
import type { Sql } from './connection.js';
import { type CopyRow, readCopy } from './copy-out.js';
import { FENCE_STATEMENT, fenceParameters, type Hold } from './fence.js';
import { ownedBy, type Ownership } from './transaction.js';

// Jobs are read with COPY (copy-out.ts), columns in this order; arrays come back as JSON text
// (no array parsing in the client), NULL when empty.
const JOB_SELECT =
  'select id, queue, state, data, priority, created_at, run_at, started_at, attempts, max_attempts, backoff, ' +
  'ttl, timeout, unique_key, array_to_json(depends_on)::text, array_to_json(tags)::text, ' +
  'lifo, progress, progress_msg, result, error, finished_at from flashq_jobs';

const FINISHED = "('completed', 'failed')";

const STATE_BYTES = STORED_STATES.map((s) => Buffer.from(s, 'latin1'));

/** The state column's index in STORED_STATES (no string per row), or throw. */
function stateOf(r: CopyRow, id: number): number {
  const s = r.start(2);
  const len = r.end(2) - s;
  next: for (let k = 0; k < STATE_BYTES.length; k++) {
    const b = STATE_BYTES[k]!;
    if (b.length !== len) continue;
    for (let i = 0; i < len; i++) if (r.buf[s + i] !== b[i]) continue next;
    return k;
  }
  throw new Error(`job ${id} has an unknown state ${JSON.stringify(r.text(2))}`);
}

/**
 * One COPY row (columns of JOB_SELECT) into `rows`. A plain ASCII payload of a live job is copied
 * as bytes into the rows' blocks; a finished job's payload becomes a string, since retention may
 * keep it long after the jobs beside it in a block are gone.
 */
function addRow(r: CopyRow, rows: JobRows, finished: boolean): void {
  if (r.count !== 22) throw new Error(`a stored job row has ${r.count} columns, expected 22`);
  const i = rows.add();
  const g = rows.segmentOf(i);
  const k = i & SEGMENT_MASK;
  const id = r.int(0);
  g.id[k] = id;
  g.queue[k] = rows.queueIndex(r.text(1)!);
  g.state[k] = stateOf(r, id);
  if (!finished && r.isPlain(3)) rows.setAsciiData(i, r.buf, r.start(3), r.end(3));
  else rows.data[i] = r.text(3)!;
  g.priority[k] = r.int(4);
  g.created[k] = r.int(5);
  g.runAt[k] = r.int(6);
  g.startedAt[k] = r.int(7);
  g.attempts[k] = r.int(8);
  g.maxAttempts[k] = r.int(9);
  g.backoff[k] = r.int(10);
  g.ttl[k] = r.int(11);
  g.timeout[k] = r.int(12);
  g.lifo[k] = r.bool(16) ? 1 : 0;
  g.progress[k] = r.int(17);
  g.finishedAt[k] = r.int(21);
  if (!r.isNull(13) || !r.isNull(14) || !r.isNull(15) || !r.isNull(18) || !r.isNull(19) || !r.isNull(20)) {
    rows.extras.set(i, {
      uniqueKey: r.text(13),
      dependsOn: r.isNull(14) ? [] : (JSON.parse(r.text(14)!) as number[]),
      tags: r.isNull(15) ? [] : (JSON.parse(r.text(15)!) as string[]),
      progressMsg: r.text(18),
      result: r.text(19),
      error: r.text(20),
    });
  }
}

/**
 * Everything a shard needs to restore its engine: every live job of its partitions (in heap
 * order; restoring sorts them by id, which within a queue is push order), its newest
 * `keepFinished` completed/failed jobs, queue settings, crons and id sequences. Finished rows beyond the
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
  if (parts.length === 0) return { jobs: new JobRows(), queues: [], crons: [], seqs: [], partitions: [] };
  const input = await loadWhere(sql, `partition = any('{${parts.join(',')}}'::smallint[])`, keepFinished, fenceParameters(fence.nodeId, holds, fence.idleMs));
  input.partitions = parts;
  return input;
}

async function loadWhere(sql: Sql, mine: string, keepFinished: number, fence: unknown[] | null): Promise<RestoreInput> {
  return sql.begin('isolation level repeatable read', async (tx) => {
    if (fence !== null) await tx.unsafe(FENCE_STATEMENT, fence as never[]);
    // a synchronized scan starts where another scan of the table is, so the rows would come
    // rotated and restoring would have to sort them (heap order is mostly push order per queue)
    await tx.unsafe('set local synchronize_seqscans = off');
    const jobs = new JobRows();
    await readCopy(tx, `copy (${JOB_SELECT} where state not in ${FINISHED} and ${mine}) to stdout`, (r) => addRow(r, jobs, false));
    // newest first, so the bound keeps the newest; restoring orders them by finish time again
    const live = jobs.count;
    await readCopy(
      tx,
      `copy (${JOB_SELECT} where state in ${FINISHED} and ${mine} order by finished_at desc, id desc limit ${Math.max(0, keepFinished)}) to stdout`,
      (r) => addRow(r, jobs, true),
    );
    const queues = await tx.unsafe<Array<{ name: string; paused: boolean; rate_limit: number | null; concurrency_limit: number | null }>>(
      `select name, paused, rate_limit, concurrency_limit from flashq_queues where ${mine}`,
    );
    const crons = await tx.unsafe<Array<{ name: string; queue: string; schedule: string; data: string; priority: number; next_run: number }>>(
      `select name, queue, schedule, data, priority, next_run from flashq_crons where ${mine} order by name`,
    );
    const seqs = await tx.unsafe<Array<{ partition: number; seq: number }>>(`select partition, seq from flashq_sequences where ${mine}`);
    const finished = jobs.count - live;
    if (finished > 0 && finished >= keepFinished) {
      const oldest = jobs.count - 1;
      await tx.unsafe(
        `delete from flashq_jobs where state in ${FINISHED} and ${mine} and (finished_at, id) < ($1::bigint, $2::bigint)`,
        [jobs.segmentOf(oldest).finishedAt[oldest & SEGMENT_MASK]!, jobs.id(oldest)],
      );
    }
    // ids must never be reused: trust the larger of the stored sequence and the ids present
    const seqOf = new Map<number, number>(seqs.map((s) => [s.partition, s.seq]));
    for (let i = 0; i < jobs.count; i++) {
      const id = jobs.id(i);
      const p = id % PARTITIONS;
      const seq = (id - p) / PARTITIONS;
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
