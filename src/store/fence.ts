/**
 * The fence a cluster node's commits run inside their transaction (the rule is explained in
 * docs/cluster.md, "The fencing rule"; the SQL functions are created by src/cluster/schema.ts).
 * Kept here, below the cluster layer, because the store's pipelined commit sends it.
 */

/** A partition lease as a node holds it: the epoch it took the partition at. */
export interface Hold {
  partition: number;
  epoch: number;
}

/** SQLSTATE raised by flashq_fence when a node no longer holds a partition's epoch. */
export const FENCE_SQLSTATE = 'FQ001';
/** SQLSTATE raised by flashq_cron_fire when a cron's next run is no longer the one this node fires. */
export const CRON_FIRED_SQLSTATE = 'FQ002';

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

/**
 * Advance fired crons' next runs by compare-and-set: parameter 1 is a JSON array of
 * `{p, n, old, new}` (partition, name, next run the firing node saw, next run after it). Raises
 * CRON_FIRED_SQLSTATE unless every row still had `old`, so a stale owner cannot fire a run twice.
 */
export const CRON_FIRE_STATEMENT = 'select flashq_cron_fire($1::text::json)';

/**
 * Whether a driver error refuses the commit because this node is not (or no longer) the owner:
 * the fence found another epoch, or a cron's next run was already advanced by another node.
 */
export function isFenceError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === FENCE_SQLSTATE || code === CRON_FIRED_SQLSTATE;
}

/**
 * The partitions a fence error names (its DETAIL is their JSON array), or null when it names
 * none (then every partition the refused commit fenced counts as lost).
 */
export function refusedPartitions(e: unknown): number[] | null {
  const detail = (e as { detail?: unknown } | null)?.detail;
  if (typeof detail !== 'string') return null;
  try {
    const parts = JSON.parse(detail) as unknown;
    if (Array.isArray(parts) && parts.length > 0 && parts.every((p) => Number.isInteger(p))) return parts as number[];
  } catch {
    // not ours: fall through
  }
  return null;
}

/**
 * A cluster commit refused by the fence or a cron's compare-and-set: nothing of it committed, and
 * `partitions` are held by another node now.
 */
export class CommitRefused extends Error {
  override readonly name = 'CommitRefused';
  constructor(
    readonly partitions: number[],
    readonly refusal: unknown,
  ) {
    super(`commit refused for partitions ${partitions.join(', ')}: ${(refusal as Error)?.message ?? String(refusal)}`);
  }
}
