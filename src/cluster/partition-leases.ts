import type { Sql } from '../store/connection.js';
import type { Hold } from './fencing.js';

const TTL = "$2::integer * interval '1 millisecond'";
const HOLDS = 'json_to_recordset($3::text::json) as u(p smallint, e bigint)';

function holdsJson(holds: ReadonlyArray<Hold>): string {
  return JSON.stringify(holds.map((h) => ({ p: h.partition, e: h.epoch })));
}

/** A partition's row: the leader's wish and the lease actually held. */
export interface PartitionRow {
  partition: number;
  assignedTo: string | null;
  /** null when free or when the lease has expired (by the database's clock) */
  owner: string | null;
  epoch: number;
}

/**
 * Take the partitions assigned to `me` that are free, expired, or left by an earlier incarnation
 * of this node id (`notHeld`: partitions this process holds already, skipped). Each taken row's
 * epoch increments under its row lock, which waits for no one: a row share-locked by a commit
 * still fencing it (or being renewed) is skipped and taken at a later pass.
 */
export async function acquireAssigned(sql: Sql, me: string, ttlMs: number, notHeld: ReadonlyArray<number>): Promise<Hold[]> {
  const rows = await sql.unsafe<Array<{ partition: number; epoch: number }>>(
    'with c as (select partition from flashq_partitions where assigned_to = $1 ' +
      'and partition <> all(array(select json_array_elements_text($3::text::json))::smallint[]) ' +
      'and (owner is null or owner = $1 or expires_at <= now()) order by partition for update skip locked) ' +
      `update flashq_partitions f set owner = $1, epoch = f.epoch + 1, expires_at = now() + ${TTL} ` +
      'from c where f.partition = c.partition returning f.partition, f.epoch',
    [me, ttlMs, JSON.stringify(notHeld)],
  );
  return rows.map((r) => ({ partition: r.partition, epoch: r.epoch })).sort((a, b) => a.partition - b.partition);
}

/**
 * Extend the leases `me` holds at those epochs. Returns those renewed with whom the leader now
 * assigns them to; a hold missing from the answer was taken over or released.
 */
export async function renewHeld(sql: Sql, me: string, ttlMs: number, holds: ReadonlyArray<Hold>): Promise<Array<Hold & { assignedTo: string | null }>> {
  if (holds.length === 0) return [];
  const rows = await sql.unsafe<Array<{ partition: number; epoch: number; assigned_to: string | null }>>(
    `update flashq_partitions f set expires_at = now() + ${TTL} from ${HOLDS} ` +
      'where f.partition = u.p and f.epoch = u.e and f.owner = $1 returning f.partition, f.epoch, f.assigned_to',
    [me, ttlMs, holdsJson(holds)],
  );
  return rows.map((r) => ({ partition: r.partition, epoch: r.epoch, assignedTo: r.assigned_to }));
}

/** Give leases up so their new owner may take them at once (after this node stopped serving them). */
export async function releaseHeld(sql: Sql, me: string, holds: ReadonlyArray<Hold>): Promise<void> {
  if (holds.length === 0) return;
  await sql.unsafe(
    "update flashq_partitions f set owner = null, expires_at = '-infinity' from " +
      HOLDS.replace('$3', '$2') +
      ' where f.partition = u.p and f.epoch = u.e and f.owner = $1',
    [me, holdsJson(holds)],
  );
}

/** Every partition's row, in partition order. */
export async function readPartitions(sql: Sql): Promise<PartitionRow[]> {
  const rows = await sql.unsafe<Array<{ partition: number; assigned_to: string | null; owner: string | null; epoch: number }>>(
    'select partition, assigned_to, case when expires_at > now() then owner end as owner, epoch from flashq_partitions order by partition',
  );
  return rows.map((r) => ({ partition: r.partition, assignedTo: r.assigned_to, owner: r.owner, epoch: r.epoch }));
}

/**
 * Write the leader's assignment (one node id per partition), only while `me` still leads at
 * `term`. One statement, so nothing is left locked if this node stalls: the leader row is
 * share-locked for the statement, so a new leader's claim waits for this write, or, if it came
 * first, this write finds no lease and changes nothing. Returns the rows changed, or null when
 * `me` no longer leads.
 */
export async function writeAssignment(sql: Sql, me: string, term: number, assignment: ReadonlyArray<string | null>): Promise<number | null> {
  const rows = await sql.unsafe<Array<{ leading: number; changed: number }>>(
    'with lead as (select 1 from flashq_leader where id = 1 and owner = $1 and term = $2 and expires_at > now() for share), ' +
      'upd as (update flashq_partitions f set assigned_to = u.n from json_to_recordset($3::text::json) as u(p smallint, n text), lead ' +
      'where f.partition = u.p and f.assigned_to is distinct from u.n returning 1) ' +
      'select (select count(*) from lead)::int as leading, (select count(*) from upd)::int as changed',
    [me, term, JSON.stringify(assignment.map((n, p) => ({ p, n })))],
  );
  const r = rows[0]!;
  return r.leading === 0 ? null : r.changed;
}
