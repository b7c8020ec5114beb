import type { Changes } from '../../src/engine/types.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { partitionOf } from '../../src/engine/partition.js';
import { LineClient } from './line-client.js';
import { query } from './pg.js';

/** Changes of one turn: what a test sets, nothing else. */
export function changes(c: Partial<Changes>): Changes {
  return { inserted: [], updated: [], deleted: [], retimed: [], queues: [], cronsUpserted: [], cronsDeleted: [], seqs: [], cronsFired: [], cronPartitions: [], ...c };
}

export interface JobRow {
  id: number;
  queue: string;
  partition: number;
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
  depends_on: number[];
  tags: string[];
  lifo: boolean;
  progress: number;
  progress_msg: string | null;
  result: string | null;
  error: string | null;
  finished_at: number;
}

/** A durable server on `url` (PERSIST=sync unless env says otherwise). */
export function durableServer(url: string, env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer({ DATABASE_URL: url, HTTP_PORT: '0', GRPC_PORT: '0', SHARDS: '2', ...env }, 30_000);
}

export async function jobRow(url: string, id: number): Promise<JobRow | undefined> {
  const rows = await query<JobRow & { depends_on: string; tags: string }>(
    url,
    "select *, coalesce(array_to_json(depends_on)::text, '[]') as depends_on, coalesce(array_to_json(tags)::text, '[]') as tags from flashq_jobs where id = $1",
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { ...r, depends_on: JSON.parse(r.depends_on) as number[], tags: JSON.parse(r.tags) as string[] };
}

/** Wait until the stored row satisfies `pred` (timers and crons act on their own). */
export function waitForRow(url: string, id: number, pred: (r: JobRow | undefined) => boolean, what: string): Promise<JobRow | undefined> {
  return waitFor(
    async () => {
      const r = await jobRow(url, id);
      return pred(r) ? { r } : null;
    },
    10_000,
    what,
  ).then((x) => x!.r);
}

/** A queue name that lives on shard `shard` of `shards`. */
export function queueOnShard(prefix: string, shard: number, shards = 2): string {
  for (let i = 0; ; i++) {
    const q = `${prefix}${i}`;
    if (partitionOf(q) % shards === shard) return q;
  }
}

export async function client(server: RunningServer): Promise<LineClient> {
  return LineClient.connect(server.port);
}
