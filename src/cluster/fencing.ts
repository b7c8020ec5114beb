import type postgres from 'postgres';
import { FENCE_STATEMENT, fenceParameters, isFenceError, type Hold } from '../store/fence.js';

// the fence's statement lives in the store (its pipelined commit sends it); re-exported for the agent
export { FENCE_STATEMENT, fenceParameters, isFenceError, refusedPartitions, type Hold } from '../store/fence.js';

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
