import { PARTITIONS } from '../engine/types.js';
import type { Sql } from '../store/connection.js';
import { CRON_FIRED_SQLSTATE, FENCE_SQLSTATE } from '../store/fence.js';
import { applyMigrations, type Migration } from '../store/schema.js';

export { FENCE_SQLSTATE } from '../store/fence.js';

/**
 * The cluster's tables, numbered from 1001 so they never collide with the store's series. All
 * times are the database's `now()`: nodes compare nothing but durations against their own clocks.
 *
 * - flashq_nodes: membership. `incarnation` is new at every start, so a second process started
 *   with the same NODE_ID is detected instead of silently sharing leases.
 * - flashq_leader: one row; `term` increments at every change of owner, and the leader renews
 *   only `where owner = me and term = mine`.
 * - flashq_partitions: one row per partition, prefilled. `assigned_to` is the leader's wish,
 *   `owner`/`epoch`/`expires_at` the lease actually held. Taking a partition increments `epoch`.
 * - flashq_fence(me, partitions, epochs, idle_ms): the fencing check (1002: its DETAIL is the
 *   JSON array of the refused partitions, so a store knows which ones to drop), a function so the store can
 *   pipeline it inside its own commit (a raised error aborts the transaction; COMMIT then answers
 *   ROLLBACK). It share-locks the rows (FOR KEY SHARE: renewals, which change no key, pass; a
 *   takeover's FOR UPDATE waits for the commit, or, if it came first, the check sees its new
 *   epoch) and bounds how long a stalled client may hold those locks while idle in the
 *   transaction.
 * - flashq_cron_fire(fires): a cron firing's compare-and-set of its next run, in the commit that
 *   pushes its job (store/fence.ts): a node whose view of a cron is stale cannot fire it again.
 */
export const CLUSTER_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1001,
    name: 'cluster: nodes, leader lease, partition leases, fence',
    sql: `
      create table flashq_nodes (
        node_id       text primary key,
        incarnation   text        not null,
        host          text        not null,
        port          integer     not null,
        cluster_port  integer     not null,
        started_at    timestamptz not null default now(),
        heartbeat_at  timestamptz not null default now()
      );

      create table flashq_leader (
        id          smallint primary key check (id = 1),
        owner       text,
        term        bigint      not null,
        expires_at  timestamptz not null
      );
      insert into flashq_leader (id, owner, term, expires_at) values (1, null, 0, '-infinity');

      create table flashq_partitions (
        partition    smallint primary key,
        assigned_to  text,
        owner        text,
        epoch        bigint      not null,
        expires_at   timestamptz not null
      );
      insert into flashq_partitions (partition, assigned_to, owner, epoch, expires_at)
        select p, null, null, 0, '-infinity' from generate_series(0, ${PARTITIONS - 1}) as p;

      create function flashq_fence(me text, parts smallint[], epochs bigint[], idle_ms integer)
      returns void language plpgsql volatile as $fence$
      declare
        held integer;
        bad text;
      begin
        if idle_ms > 0 then
          perform set_config('idle_in_transaction_session_timeout', idle_ms::text, true);
        end if;
        select count(*) into held from (
          select 1 from flashq_partitions f join unnest(parts, epochs) as u(p, e) on f.partition = u.p
          where f.owner = me and f.epoch = u.e
          for key share of f
        ) as x;
        if held <> cardinality(parts) then
          select string_agg(format('partition %s: held epoch %s, now owner %s epoch %s',
                 u.p, u.e, coalesce(f.owner, '(none)'), coalesce(f.epoch::text, '?')), '; ')
            into bad
            from unnest(parts, epochs) as u(p, e) left join flashq_partitions f on f.partition = u.p
           where f.owner is distinct from me or f.epoch is distinct from u.e;
          raise exception 'node % no longer holds %', me, coalesce(bad, 'its partitions')
            using errcode = '${FENCE_SQLSTATE}';
        end if;
      end
      $fence$;
    `,
  },
  {
    version: 1002,
    name: 'cluster: the fence names the refused partitions; crons fire by compare-and-set',
    sql: `
      create or replace function flashq_fence(me text, parts smallint[], epochs bigint[], idle_ms integer)
      returns void language plpgsql volatile as $fence$
      declare
        held integer;
        bad text;
        refused text;
      begin
        if idle_ms > 0 then
          perform set_config('idle_in_transaction_session_timeout', idle_ms::text, true);
        end if;
        select count(*) into held from (
          select 1 from flashq_partitions f join unnest(parts, epochs) as u(p, e) on f.partition = u.p
          where f.owner = me and f.epoch = u.e
          for key share of f
        ) as x;
        if held <> cardinality(parts) then
          select string_agg(format('partition %s: held epoch %s, now owner %s epoch %s',
                 u.p, u.e, coalesce(f.owner, '(none)'), coalesce(f.epoch::text, '?')), '; '),
                 json_agg(u.p order by u.p)::text
            into bad, refused
            from unnest(parts, epochs) as u(p, e) left join flashq_partitions f on f.partition = u.p
           where f.owner is distinct from me or f.epoch is distinct from u.e;
          raise exception 'node % no longer holds %', me, coalesce(bad, 'its partitions')
            using errcode = '${FENCE_SQLSTATE}', detail = coalesce(refused, '[]');
        end if;
      end
      $fence$;

      create function flashq_cron_fire(fires json)
      returns void language plpgsql volatile as $cron$
      declare
        done integer;
        bad text;
        refused text;
      begin
        with u as (
          update flashq_crons c set next_run = x.new
            from json_to_recordset(fires) as x(p smallint, n text, old bigint, new bigint)
           where c.partition = x.p and c.name = x.n and c.next_run = x.old
          returning 1
        ) select count(*) into done from u;
        if done <> json_array_length(fires) then
          select string_agg(format('cron %s (partition %s) next run %s', x.n, x.p, x.old), '; '),
                 json_agg(distinct x.p)::text
            into bad, refused
            from json_to_recordset(fires) as x(p smallint, n text, old bigint, new bigint)
           where not exists (select 1 from flashq_crons c where c.partition = x.p and c.name = x.n and c.next_run = x.new);
          raise exception 'already fired elsewhere: %', coalesce(bad, 'a cron run')
            using errcode = '${CRON_FIRED_SQLSTATE}', detail = coalesce(refused, '[]');
        end if;
      end
      $cron$;
    `,
  },
];

/** Create or upgrade the cluster's tables (idempotent; safe with many nodes starting together). */
export function migrateCluster(sql: Sql): Promise<number[]> {
  return applyMigrations(sql, CLUSTER_MIGRATIONS);
}
