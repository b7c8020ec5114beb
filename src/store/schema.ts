import { connect, errorText, maskUrl, type Sql } from './connection.js';

/**
 * The schema, as numbered migrations. Each runs once, in its own transaction, recorded in
 * flashq_schema; servers starting together serialise on an advisory lock. Never edit a shipped
 * migration: add the next one.
 *
 * Index choice (measured, see the store report in BENCHMARKS.md "durable"): the jobs table has
 * its primary key only. An index containing `state` turns every state change into a non-HOT
 * update (+45% backend CPU per push→pull→ack cycle); a (queue, created_at) browse index costs
 * +30%. Neither would be read: recovery reads whole partitions (the table holds only live and
 * retained jobs, because evictions are deleted), and the /jobs browser is answered from the
 * engine, which holds exactly those rows. fillfactor 50 leaves room on each page for the HOT
 * versions of pull/ack updates: 97% of them are HOT (54% at 70), for 18% less PostgreSQL CPU per
 * push→pull→ack cycle and 7% more per insert. Empty depends_on/tags are stored
 * as NULL: parsing `{}` twice per row cost 10% of the COPY's backend CPU.
 */
export const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'jobs, queues, crons, webhooks, sequences',
    sql: `
      create table flashq_jobs (
        id            bigint primary key,
        queue         text     not null,
        partition     smallint not null,
        state         text     not null,
        data          text     not null,
        priority      integer  not null,
        created_at    bigint   not null,
        run_at        bigint   not null,
        started_at    bigint   not null,
        attempts      integer  not null,
        max_attempts  integer  not null,
        backoff       bigint   not null,
        ttl           bigint   not null,
        timeout       bigint   not null,
        unique_key    text,
        depends_on    bigint[],
        tags          text[],
        lifo          boolean  not null,
        progress      smallint not null,
        progress_msg  text,
        result        text,
        error         text,
        finished_at   bigint   not null
      ) with (fillfactor = 50);

      create table flashq_queues (
        name              text primary key,
        partition         smallint not null,
        paused            boolean  not null,
        rate_limit        integer,
        concurrency_limit integer
      );

      create table flashq_crons (
        partition smallint not null,
        name      text     not null,
        queue     text     not null,
        schedule  text     not null,
        data      text     not null,
        priority  integer  not null,
        next_run  bigint   not null,
        primary key (partition, name)
      );

      create table flashq_sequences (
        partition smallint primary key,
        seq       bigint not null
      );

      create table flashq_webhooks (
        id         text primary key,
        spec       jsonb not null,
        created_at timestamptz not null default now()
      );
    `,
  },
];

/** Columns of flashq_jobs in table order (COPY rows follow it). */
export const JOB_COLUMNS =
  'id, queue, partition, state, data, priority, created_at, run_at, started_at, attempts, max_attempts, backoff, ' +
  'ttl, timeout, unique_key, depends_on, tags, lifo, progress, progress_msg, result, error, finished_at';

const LOCK_KEY = 0x666c7371; // "flsq"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Apply the migrations this database lacks; returns the versions applied. */
export function migrate(sql: Sql): Promise<number[]> {
  return applyMigrations(sql, MIGRATIONS);
}

/**
 * Apply those of `list` not yet recorded in flashq_schema, in order, in one transaction. Other
 * layers (cluster/) keep their own list, numbered in their own range, and apply it through here so
 * every schema change shares the one record and the one lock.
 */
export async function applyMigrations(sql: Sql, list: ReadonlyArray<Migration>): Promise<number[]> {
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    // transaction-scoped, so a crash mid-migration cannot leave the lock held
    await tx.unsafe(`select pg_advisory_xact_lock(${LOCK_KEY})`);
    await tx.unsafe(`create table if not exists flashq_schema (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`);
    const rows = await tx.unsafe<Array<{ version: number }>>('select version from flashq_schema');
    const have = new Set(rows.map((r) => r.version));
    for (const m of list) {
      if (have.has(m.version)) continue;
      await tx.unsafe(m.sql).simple();
      await tx.unsafe('insert into flashq_schema (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return applied;
}

/**
 * Connect, migrate, disconnect: run on the front thread before the shards start. Throws an Error
 * whose message names the (masked) URL and the reason, so an unreachable or unusable database
 * stops the server instead of silently running in memory.
 */
export async function migrateDatabase(url: string): Promise<number[]> {
  const sql = connect(url, { max: 1, name: 'flashq-ts migrate', connectTimeout: 10 });
  try {
    return await migrate(sql);
  } catch (e) {
    throw new Error(`PostgreSQL at ${maskUrl(url)} is not usable: ${errorText(e)}`);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
