/**
 * Durable throughput: PUSHB (batches of 1000) and push→pull→ack cycles against a server on
 * PostgreSQL (fsync on, PERSIST=sync), next to the same loads in memory (DATABASE_URL unset) and
 * with PERSIST=async. Writes the `durable` section of BENCHMARKS.md.
 *
 *   node dist/bench/durable.js [--quick] [--runs=3] [--no-write] [--only=cycle/sync/1,pushb/memory/2]
 *
 * Uses DATABASE_URL (a user that may CREATE DATABASE) or starts a private PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';
import { IdLog } from './lib/delivery.js';
import { RawConn, answerIds, answerJobIds, encode } from './lib/raw.js';
import { rawPushBatches, nothing } from './lib/raw-batch.js';
import { startFlashq, type FlashqServer } from './lib/server.js';
import { Waiter } from './lib/waiter.js';
import { PrivatePostgres } from '../test/store/pg.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? (quick ? 1 : 3));
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? null;
const write = !args.includes('--no-write') && only === null;
const N_PUSH = quick ? 100_000 : 300_000;
const N_CYCLE = quick ? 100_000 : 300_000;
const BYTES = 100;

type Mode = 'memory' | 'sync' | 'async';

interface RunResult {
  jobsPerSecond: number;
  /** turns per transaction, from the shards' "store closed" log lines */
  turnsPerTx: number | null;
  rowsPerTx: number | null;
  /** CPU of the shards' PostgreSQL backends per 1000 jobs, ms (null when PostgreSQL is not local) */
  pgCpuPer1000: number | null;
}

/** CPU time (ms) of local processes by pid, from /proc; null when one cannot be read. */
function cpuMs(pids: number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(f[11]) + Number(f[12])) * (1000 / 100);
    } catch {
      return null;
    }
  }
  return total;
}

/** The server's shard connections as PostgreSQL backends (their CPU is the store's cost there). */
async function shardBackends(url: string): Promise<number[]> {
  const sql = postgres(url, { max: 1 });
  try {
    const rows = await sql.unsafe<Array<{ pid: number }>>(
      "select pid from pg_stat_activity where datname = current_database() and application_name like 'flashq-ts shard%'",
    );
    return rows.map((r) => r.pid);
  } finally {
    await sql.end();
  }
}

/**
 * Push n jobs with PUSHB ×1000 (4 in flight per connection) from `conns` producer connections while
 * `conns` worker connections PULLB ×1000 (two waiting each) and ACKB: completed jobs/s.
 */
async function cycles(port: number, queue: string, n: number, conns: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  const w = new Waiter('cycle', deadline);
  let acked = 0;
  let pullsWaiting = 0;
  const pull = encode('json', { cmd: 'PULLB', queue, count: 1000, timeout: 1000 });
  async function worker(): Promise<RawConn> {
    const kinds: number[] = [];
    let head = 0;
    let ids: number[] = [];
    const add = (id: number) => ids.push(id);
    const refill = (out: Buffer[]) => {
      // keep pulls waiting while jobs remain to be taken
      while (kinds.length - head < 2 && acked + pullsWaiting * 1000 < n + 2000 * conns) {
        out.push(pull);
        kinds.push(-1);
        pullsWaiting++;
      }
    };
    const conn: RawConn = await RawConn.connect(port, 'json', (answers) => {
      const out: Buffer[] = [];
      for (const a of answers) {
        const kind = kinds[head++]!;
        if (kind === -1) {
          pullsWaiting--;
          ids = [];
          if (answerJobIds('json', a, add) < 0) return w.fail(new Error(`PULLB refused: ${a.toString('utf8', 0, 200)}`));
          if (ids.length > 0) {
            out.push(Buffer.from(`{"cmd":"ACKB","ids":[${ids.join(',')}]}\n`));
            kinds.push(ids.length);
          }
        } else {
          let got = -1;
          if (!answerIds('json', a, (x) => (got = x)) || got !== kind) return w.fail(new Error(`ACKB: ${a.toString('utf8', 0, 200)}`));
          acked += got;
          if (acked === n) return w.done();
        }
      }
      refill(out);
      if (out.length > 0) conn.write(Buffer.concat(out));
    });
    conn.onFailure((e) => w.fail(e));
    const first: Buffer[] = [];
    refill(first);
    conn.write(Buffer.concat(first));
    return conn;
  }
  const t0 = performance.now();
  const done = w.wait();
  const workers = await Promise.all(Array.from({ length: conns }, worker));
  const per = Math.ceil(n / conns);
  await Promise.all(
    Array.from({ length: conns }, (_, i) =>
      rawPushBatches(
        { port, framing: 'json', mode: 'raw', queue, n: Math.min(per, n - i * per), bytes: BYTES, batch: 1000, inFlight: 4, deadline },
        new IdLog(per),
        nothing,
      ),
    ),
  );
  await done;
  const t1 = performance.now();
  for (const c of workers) c.close();
  return (n / (t1 - t0)) * 1000;
}

/** PUSHB ×1000 of n jobs from `conns` connections, 4 batches in flight on each. */
async function pushes(port: number, queue: string, n: number, conns: number): Promise<number> {
  const per = Math.ceil(n / conns);
  const logs = Array.from({ length: conns }, () => new IdLog(per));
  const windows = await Promise.all(
    logs.map((log, i) =>
      rawPushBatches(
        { port, framing: 'json', mode: 'raw', queue, n: Math.min(per, n - i * per), bytes: BYTES, batch: 1000, inFlight: 4, deadline: Date.now() + 300_000 },
        log,
        nothing,
      ),
    ),
  );
  const accepted = logs.reduce((k, l) => k + l.length, 0);
  if (accepted !== n) throw new Error(`PUSHB accepted ${accepted} of ${n}`);
  const t0 = Math.min(...windows.map((x) => x[0]));
  const t1 = Math.max(...windows.map((x) => x[1]));
  return (n / (t1 - t0)) * 1000;
}

function mergeStats(output: string): { turnsPerTx: number | null; rowsPerTx: number | null } {
  let tx = 0;
  let turns = 0;
  let rows = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"store closed"')) continue;
    const m = JSON.parse(line) as { transactions: number; turns: number; rows: number };
    tx += m.transactions;
    turns += m.turns;
    rows += m.rows;
  }
  return tx === 0 ? { turnsPerTx: null, rowsPerTx: null } : { turnsPerTx: turns / tx, rowsPerTx: rows / tx };
}

async function freshDatabase(admin: string, tag: string): Promise<string> {
  const name = `durable_${tag}_${process.pid}_${Date.now() % 1e6}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(admin: string, url: string): Promise<void> {
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
  await sql.end();
}

async function once(admin: string, mode: Mode, step: 'pushb' | 'cycle', conns: number): Promise<RunResult> {
  const url = mode === 'memory' ? null : await freshDatabase(admin, step);
  const env: Record<string, string> = { GRPC_PORT: '0', HTTP_PORT: '0', ...(url ? { DATABASE_URL: url, PERSIST: mode } : {}) };
  const server: FlashqServer = await startFlashq(env, { timeoutMs: 60_000 });
  try {
    const queue = `durable.${step}.${mode}`;
    const backends = url ? await shardBackends(url) : [];
    const cpu0 = cpuMs(backends);
    const n = step === 'pushb' ? N_PUSH : N_CYCLE;
    const rate = step === 'pushb' ? await pushes(server.port, queue, n, conns) : await cycles(server.port, queue, n, conns);
    const cpu1 = cpuMs(backends);
    const pgCpuPer1000 = url && cpu0 !== null && cpu1 !== null && backends.length > 0 ? (cpu1 - cpu0) / (n / 1000) : null;
    await server.stop();
    if (url && step === 'pushb') {
      const sql = postgres(url, { max: 1 });
      const [r] = await sql.unsafe<Array<{ n: string }>>('select count(*) as n from flashq_jobs');
      await sql.end();
      if (Number(r!.n) !== N_PUSH) throw new Error(`${N_PUSH} pushes answered ok but ${r!.n} rows stored`);
    }
    if (only !== null) for (const l of server.output().split('\n')) if (l.includes('store closed')) process.stderr.write(`# ${l}\n`);
    return { jobsPerSecond: rate, pgCpuPer1000, ...mergeStats(server.output()) };
  } finally {
    await server.stop().catch(() => {});
    if (url) await dropDatabase(admin, url).catch(() => {});
  }
}

async function main(): Promise<void> {
  let pg: PrivatePostgres | null = null;
  let admin = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? null;
  if (!admin) {
    pg = await PrivatePostgres.create();
    admin = pg.url;
  }
  const sql = postgres(admin, { max: 1 });
  const [settings] = await sql.unsafe<Array<{ fsync: string; sc: string; v: string }>>(
    "select current_setting('fsync') as fsync, current_setting('synchronous_commit') as sc, current_setting('server_version') as v",
  );
  await sql.end();
  const steps: Array<['pushb' | 'cycle', Mode, number]> = [];
  for (const step of ['pushb', 'cycle'] as const) {
    for (const mode of ['memory', 'sync', 'async'] as const) steps.push([step, mode, 1]);
    steps.push([step, 'memory', 2], [step, 'sync', 2]);
  }
  // --only=cycle/sync/1,… runs a subset (for tuning) and writes nothing
  if (only !== null) steps.splice(0, steps.length, ...steps.filter(([s, m, c]) => only.includes(`${s}/${m}/${c}`)));
  const results = new Map<string, RunResult[]>();
  // interleave repetitions so a noisy minute of the shared machine hits every step a little
  for (let r = 0; r < runs; r++) {
    for (const [step, mode, conns] of steps) {
      const res = await once(admin, mode, step, conns);
      const key = `${step}/${mode}/${conns}`;
      process.stderr.write(`# ${key} run ${r + 1}: ${fmt(res.jobsPerSecond)} jobs/s\n`);
      results.set(key, [...(results.get(key) ?? []), res]);
    }
  }
  await pg?.destroy();
  if (only !== null) {
    for (const [key, xs] of results) {
      const cpu = xs.map((x) => x.pgCpuPer1000?.toFixed(1) ?? '-').join(' ');
      console.log(`${key}: ${xs.map((x) => fmt(x.jobsPerSecond)).join(' ')} jobs/s; PostgreSQL CPU per 1000: ${cpu} ms`);
    }
    return;
  }
  const med = (key: string) => median(results.get(key)!.map((x) => x.jobsPerSecond));
  const range = (key: string) => {
    const xs = results.get(key)!.map((x) => x.jobsPerSecond);
    return `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  };
  const merge = (key: string) => {
    const xs = results.get(key)!.filter((x) => x.turnsPerTx !== null);
    if (xs.length === 0) return '';
    return `${median(xs.map((x) => x.turnsPerTx!)).toFixed(1)} turns, ${fmt(median(xs.map((x) => x.rowsPerTx!)))} rows`;
  };
  const pgCpu = (key: string) => {
    const xs = results.get(key)!.filter((x) => x.pgCpuPer1000 !== null);
    return xs.length === 0 ? '' : `${median(xs.map((x) => x.pgCpuPer1000!)).toFixed(1)} ms`;
  };
  const goal = (key: string, g: number) => (med(key) >= g ? `≥ ${fmt(g)} ✓` : `≥ ${fmt(g)} ✗`);
  const row = (label: string, key: string, g: string) => `| ${label} | ${fmt(med(key))} | ${range(key)} | ${merge(key)} | ${pgCpu(key)} | ${g} |`;
  const body = [
    '## Durability (PostgreSQL)',
    '',
    `${machine()}; PostgreSQL ${settings!.v} on the same machine, fsync=${settings!.fsync}, synchronous_commit=${settings!.sc}. ` +
      `Median of ${runs} (min–max), ${BYTES} B payloads, the load connections each row names, the server with its default shard count.`,
    `Command: \`node dist/bench/durable.js${args.length ? ' ' + args.join(' ') : ''}\`.`,
    '',
    '| step | jobs/s | range | per transaction | PostgreSQL CPU per 1000 jobs | goal |',
    '|---|---|---|---|---|---|',
    row(`PUSHB ×1000, in memory (${fmt(N_PUSH)} jobs), 1 connection`, 'pushb/memory/1', ''),
    row('PUSHB ×1000, PERSIST=sync, 1 connection', 'pushb/sync/1', goal('pushb/sync/1', 200_000)),
    row('PUSHB ×1000, PERSIST=async, 1 connection', 'pushb/async/1', ''),
    row('PUSHB ×1000, in memory, 2 connections', 'pushb/memory/2', ''),
    row('PUSHB ×1000, PERSIST=sync, 2 connections', 'pushb/sync/2', goal('pushb/sync/2', 200_000)),
    row(`push→pull→ack cycles, in memory (${fmt(N_CYCLE)} jobs), 1+1 connections`, 'cycle/memory/1', ''),
    row('push→pull→ack cycles, PERSIST=sync, 1+1 connections', 'cycle/sync/1', goal('cycle/sync/1', 80_000)),
    row('push→pull→ack cycles, PERSIST=async, 1+1 connections', 'cycle/async/1', ''),
    row('push→pull→ack cycles, in memory, 2+2 connections', 'cycle/memory/2', ''),
    row('push→pull→ack cycles, PERSIST=sync, 2+2 connections', 'cycle/sync/2', goal('cycle/sync/2', 80_000)),
    '',
    'Each producer connection keeps 4 PUSHB in flight. A cycle is a job pushed, pulled (PULLB ×1000, 2 waiting per worker ' +
      'connection) and acknowledged (ACKB); ' +
      'the rate counts completed jobs from the first push to the last ack. "per transaction" is the group-commit merge: ' +
      'shard turns and job rows written per PostgreSQL transaction. "PostgreSQL CPU" is the CPU time of the backends serving ' +
      "the shards' connections (PostgreSQL's own background writers not counted): with PostgreSQL, the server, and the load " +
      'generator sharing the machine, it bounds what one backend (one shard) can commit.',
  ].join('\n');
  console.log(body);
  if (write) writeSection('durable', body);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
