import type postgres from 'postgres';
import { FENCE_SQLSTATE } from './schema.js';

/** A partition lease as a node holds it: the epoch it took the partition at. */
export interface Hold {
  partition: number;
  epoch: number;
}

/**
 * The node no longer holds a partition it is writing: another node has taken it over (a higher
 * epoch) or it was released. The commit must roll back; the caller answers `Storage unavailable`
 * and drops the partition.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly nodeId: string,
    readonly holds: ReadonlyArray<Hold>,
    detail: string,
  ) {
    super(detail);
  }
}

/** Anything that runs a statement: a pool or the `tx` of `sql.begin`. */
type Queryable = Pick<postgres.Sql<Record<string, never>>, 'unsafe'>;

/**
 * The fence as one statement, for a store that pipelines its commit: parameters are
 * (node id, partitions as JSON text, epochs as JSON text, idle-in-transaction bound in ms). An
 * error with code FENCE_SQLSTATE (see isFenceError) aborts the transaction.
 */
export const FENCE_STATEMENT =
  'select flashq_fence($1::text, array(select json_array_elements_text($2::text::json))::smallint[], ' +
  'array(select json_array_elements_text($3::text::json))::bigint[], $4::integer)';

/** The parameters of FENCE_STATEMENT for `holds` (deduplicated by partition). */
export function fenceParameters(nodeId: string, holds: ReadonlyArray<Hold>, idleMs: number): [string, string, string, number] {
  const seen = new Map<number, number>();
  for (const h of holds) seen.set(h.partition, h.epoch);
  return [nodeId, JSON.stringify([...seen.keys()]), JSON.stringify([...seen.values()]), Math.max(0, Math.floor(idleMs))];
}

/** Whether a driver error is the fence refusing the transaction. */
export function isFenceError(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === FENCE_SQLSTATE;
}

/**
 * Inside the caller's transaction (`sql.begin`), verify that `nodeId` still holds every partition
 * of `holds` at that epoch, and keep those rows share-locked until the transaction ends, so no
 * takeover can commit in between. Throws FencedError otherwise; the transaction is then aborted
 * and `sql.begin` rolls it back. `idleMs` (> 0) bounds how long the transaction may then sit
 * idle, so a node frozen mid-transaction cannot hold a takeover back beyond it.
 */
export async function assertHolds(tx: Queryable, nodeId: string, holds: ReadonlyArray<Hold>, idleMs = 0): Promise<void> {
  if (holds.length === 0) return;
  try {
    await tx.unsafe(FENCE_STATEMENT, fenceParameters(nodeId, holds, idleMs));
  } catch (e) {
    if (isFenceError(e)) throw new FencedError(nodeId, holds, (e as Error).message);
    throw e;
  }
}
