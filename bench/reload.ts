/**
 * Reload rate: how fast the recovery path turns stored jobs back into a serving engine, the step
 * a cluster failover waits on (issue 13's target: ≥ 200k jobs/s, 1M jobs in ≤ 5 s). Stores N
 * waiting jobs of 100 B (16 queues) with one INSERT … SELECT, then measures, in this process,
 * loadShard (the store's read: rows → RestoreInput) and Engine.restore (RestoreInput → engine)
 * for one engine owning every partition (SHARDS=0, the default on 2 cores), and the whole server's
 * start on that database (spawn → listening). Writes the `reload` section of BENCHMARKS.md.
 *
 *   node dist/bench/reload.js [--jobs=1000000] [--runs=3] [--no-write]
 *
 * Uses DATABASE_URL (a user that may CREATE DATABASE) or starts a private PostgreSQL.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine/engine.js';
import { JobRows } from '../src/engine/job-rows.js';
import { partitionOf } from '../src/engine/partition.js';
import { PARTITIONS } from '../src/engine/types.js';
import { connect, type Sql } from '../src/store/connection.js';
import { loadPartitions, loadShard } from '../src/store/recovery.js';
import { migrateCluster } from '../src/cluster/schema.js';
import { migrate } from '../src/store/schema.js';
import { freshDatabase, PrivatePostgres } from '../test/store/pg.js';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';
import { startFlashq } from './lib/server.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => a.startsWith('--jobs='))?.slice(7) ?? 1_000_000);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
const write = !args.includes('--no-write');
const QUEUES = 16;
const KEEP = 100_000;

/** N waiting jobs spread over QUEUES queues, ids as the engine makes them (seq * P + partition). */
async function fill(sql: Sql): Promise<void> {
  const queues = Array.from({ length: QUEUES }, (_, i) => `reload-${i}`).map((name) => ({ name, p: partitionOf(name) }));
  const per = Math.ceil(N / QUEUES);
  const now = Date.now();
  await sql.unsafe(
    'insert into flashq_jobs (id, queue, partition, state, data, priority, created_at, run_at, started_at, attempts, ' +
      'max_attempts, backoff, ttl, timeout, unique_key, depends_on, tags, lifo, progress, progress_msg, result, error, finished_at) ' +
      `select g * ${PARTITIONS} + q.p, q.name, q.p, 'waiting', ` +
      `format('{"i":%s,"pad":"%s"}', g, repeat('x', 100 - 17 - length(g::text))), ` +
      `0, ${now}, ${now}, 0, 0, 1, 1000, 0, 0, null, null, null, false, 0, null, null, null, 0 ` +
      'from json_to_recordset($1::text::json) as q(name text, p smallint), generate_series(1, $2::integer) as g',
    [JSON.stringify(queues), per],
  );
  await sql.unsafe(
    'insert into flashq_sequences (partition, seq) select p, $2::bigint from json_to_recordset($1::text::json) as q(p smallint) on conflict do nothing',
    [JSON.stringify(queues.map((q) => ({ p: q.p }))), per],
  );
  await sql.unsafe('vacuum analyze flashq_jobs');
}

interface Run {
  load: number;
  restore: number;
  server: number;
  /** a cluster node taking the queues' partitions over: fenced load + adopt into a live engine */
  gain: number;
}

const NODE = 'reload-bench';

/** Take the partitions of the bench's queues as node NODE (epochs raised as a takeover does). */
async function takeAll(sql: Sql): Promise<Array<{ partition: number; epoch: number }>> {
  const parts = [...new Set(Array.from({ length: QUEUES }, (_, i) => partitionOf(`reload-${i}`)))];
  const rows = await sql.unsafe<Array<{ partition: number; epoch: number }>>(
    "update flashq_partitions set owner = $1, epoch = epoch + 1, expires_at = now() + interval '1 hour' " +
      'where partition = any($2::text::smallint[]) returning partition, epoch',
    [NODE, `{${parts.join(',')}}`],
  );
  return rows.map((r) => ({ partition: r.partition, epoch: Number(r.epoch) }));
}

async function once(sql: Sql, url: string): Promise<Run> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const input = await loadShard(sql, { index: 0, count: 1 }, KEEP);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  console.log(`loadShard: ${fmt(t1 - t0)} ms wall, ${fmt((c1.user + c1.system) / 1000)} ms of this process's CPU`);
  const engine = new Engine({ owns: () => true, keepCompleted: KEEP, maxQueues: 10_000, persist: true });
  engine.restore(input, Date.now());
  const t2 = performance.now();
  if (input.jobs.count < N) throw new Error(`loaded ${input.jobs.count} of ${N} jobs`);
  input.jobs = new JobRows();
  const holds = await takeAll(sql);
  const g0 = performance.now();
  const taken = await loadPartitions(sql, holds, KEEP, { nodeId: NODE, idleMs: 60_000 });
  const live = new Engine({ owns: () => false, keepCompleted: KEEP, maxQueues: 10_000, persist: true });
  live.adoptPartitions(holds.map((h) => h.partition), taken, Date.now());
  const gain = performance.now() - g0;
  if (taken.jobs.count < N) throw new Error(`gained ${taken.jobs.count} of ${N} jobs`);
  taken.jobs = new JobRows();
  const s0 = performance.now();
  const server = await startFlashq({ DATABASE_URL: url, SHARDS: '0' }, { timeoutMs: 300_000 });
  const s1 = performance.now();
  await server.stop();
  return { load: t1 - t0, restore: t2 - t1, server: s1 - s0, gain };
}

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? null : await PrivatePostgres.create();
  const admin = process.env.DATABASE_URL ?? pg!.url;
  try {
    const url = await freshDatabase('flashq_reload', admin);
    const sql = connect(url, { max: 1, name: 'flashq-ts reload bench' });
    await migrate(sql);
    await migrateCluster(sql);
    const f0 = performance.now();
    await fill(sql);
    const total = (await sql.unsafe<Array<{ n: number }>>('select count(*)::int as n from flashq_jobs'))[0]!.n;
    console.log(`stored ${total} jobs in ${((performance.now() - f0) / 1000).toFixed(1)} s`);
    const version = (await sql.unsafe<Array<{ v: string }>>('select version() as v'))[0]!.v.split(' on ')[0];
    const results: Run[] = [];
    for (let r = 0; r < runs; r++) {
      const x = await once(sql, url);
      console.log(`run ${r + 1}: loadShard ${fmt(x.load)} ms, restore ${fmt(x.restore)} ms, partition gain ${fmt(x.gain)} ms, server start ${fmt(x.server)} ms`);
      results.push(x);
    }
    await sql.end({ timeout: 1 });
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const row = (name: string, ms: number[]) => {
      const m = median(ms);
      return `| ${name} | ${s(m)} s | ${s(Math.min(...ms))}–${s(Math.max(...ms))} s | ${fmt(total / (m / 1000))} |`;
    };
    const both = results.map((x) => x.load + x.restore);
    const body = [
      '## Reload (PostgreSQL → engine)',
      '',
      `${machine()}; ${version} on the same machine. ${fmt(total)} waiting jobs of 100 B in ${QUEUES} queues, one engine owning every partition. Median of ${runs} (min–max); the machine was shared with other work, so read ratios, not absolutes.`,
      `Command: \`node dist/bench/reload.js --jobs=${N} --runs=${runs}\`.`,
      '',
      '| step | time | range | jobs/s |',
      '|---|---|---|---|',
      row('loadShard (store/recovery.ts: rows → RestoreInput)', results.map((x) => x.load)),
      row('Engine.restore (RestoreInput → engine)', results.map((x) => x.restore)),
      row('reload = both (what a failover waits on)', both),
      row('partition gain (cluster: fenced loadPartitions + Engine.adoptPartitions into a live engine)', results.map((x) => x.gain)),
      row('server start, SHARDS=0 (spawn → listening)', results.map((x) => x.server)),
      '',
      `Cluster failover target: ≥ 200,000 jobs/s reloaded (${fmt(N)} jobs in ≤ ${(N / 200_000).toFixed(1)} s): ${median(both) / 1000 <= N / 200_000 ? 'met' : 'not met'}.`,
    ].join('\n');
    console.log(body);
    if (write) writeSection('reload', body);
  } finally {
    await pg?.destroy();
  }
}

await main();
