import type { Sql } from '../store/connection.js';

const TTL = "$2::integer * interval '1 millisecond'";

/**
 * Become leader if the lease is free, expired, or left by an earlier incarnation of this node
 * id. Returns the new term, or null when another node holds a live lease. Every change of owner
 * increments the term, so a deposed leader's renewals (`term = mine`) match nothing.
 */
export async function claimLeadership(sql: Sql, me: string, ttlMs: number): Promise<number | null> {
  const rows = await sql.unsafe<Array<{ term: number }>>(
    `update flashq_leader set owner = $1, term = term + 1, expires_at = now() + ${TTL} ` +
      'where id = 1 and (owner is null or owner = $1 or expires_at <= now()) returning term',
    [me, ttlMs],
  );
  return rows[0]?.term ?? null;
}

/** Extend the lease; false when this node no longer holds `term` (it must stop leading). */
export async function renewLeadership(sql: Sql, me: string, term: number, ttlMs: number): Promise<boolean> {
  const rows = await sql.unsafe(
    `update flashq_leader set expires_at = now() + ${TTL} where id = 1 and owner = $1 and term = $3 returning 1`,
    [me, ttlMs, term],
  );
  return rows.length === 1;
}

/** Give the lease up (a graceful stop) so another node claims it at once. */
export async function resignLeadership(sql: Sql, me: string, term: number): Promise<void> {
  await sql.unsafe("update flashq_leader set owner = null, expires_at = '-infinity' where id = 1 and owner = $1 and term = $2", [me, term]);
}

/** The current leader and term; owner is null when the lease is free or expired. */
export async function currentLeader(sql: Sql): Promise<{ owner: string | null; term: number }> {
  const rows = await sql.unsafe<Array<{ owner: string | null; term: number }>>(
    'select case when expires_at > now() then owner end as owner, term from flashq_leader where id = 1',
  );
  return rows[0] ?? { owner: null, term: 0 };
}
