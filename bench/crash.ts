/**
 * Crash suite: producers and workers over TCP against a durable server (PERSIST=sync) that is
 * killed with SIGKILL at random moments and restarted on the same port. At the end every push
 * answered ok must exist and be completed, every ack answered ok must have stayed completed, no
 * job may be left active, and no job may have been completed twice.
 *
 *   node dist/bench/crash.js [--seconds=60] [--kills=10] [--producers=4] [--workers=4]
 *
 * Needs DATABASE_URL (or TEST_DATABASE_URL) of a user that may CREATE DATABASE; each run uses a
 * fresh database. test/store/crash.test.ts runs a short version.
 */
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { startServer, waitFor, type RunningServer } from '../test/helpers/server.js';
import { LineClient, connectWhenUp } from '../test/store/line-client.js';

export interface CrashOptions {
  adminUrl: string;
  seconds: number;
  kills: number;
  producers: number;
  workers: number;
  shards?: number;
  log?: (line: string) => void;
}

export interface CrashReport {
  pushed: number;
  acked: number;
  lost: number;
  duplicated: number;
  leftActive: number;
  ackReverted: number;
  kills: number;
  /** pushes whose answer never came (the server died): they may or may not exist */
  unanswered: number;
  seconds: number;
}

type Job = { id: number };

async function freshDatabase(adminUrl: string): Promise<string> {
  const name = `crash_${process.pid}_${Date.now() % 1e6}`;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

const rnd = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

export async function runCrash(o: CrashOptions): Promise<CrashReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  const url = await freshDatabase(o.adminUrl);
  const env = { DATABASE_URL: url, PERSIST: 'sync', HTTP_PORT: '0', GRPC_PORT: '0', SHARDS: String(o.shards ?? 2), KEEP_COMPLETED: '100000000', LOG_LEVEL: 'warn' };
  let server: RunningServer = await startServer({ ...env, LOG_LEVEL: 'info' }, 30_000);
  const port = server.port;
  const queues = ['crash-a', 'crash-b', 'crash-c'];
  const pushed = new Set<number>();
  const acked = new Set<number>();
  let duplicated = 0;
  let unanswered = 0;
  let stopLoad = false;
  let stopWorkers = false;
  const started = Date.now();

  async function producer(p: number): Promise<void> {
    let c: LineClient | null = null;
    let n = 0;
    while (!stopLoad) {
      try {
        c ??= await connectWhenUp(port, 60_000);
        const queue = queues[n % queues.length]!;
        const size = rnd(1, 40);
        const jobs = Array.from({ length: size }, (_, i) => ({ data: { p, n: n + i }, max_attempts: 1000, backoff: 1 }));
        n += size;
        const a = await c.send(size === 1 ? { cmd: 'PUSH', queue, ...jobs[0] } : { cmd: 'PUSHB', queue, jobs });
        if (!a.ok) throw new Error(`push refused: ${a.error}`);
        for (const id of size === 1 ? [a.id as number] : (a.ids as number[])) pushed.add(id);
      } catch (e) {
        if ((e as Error).message.startsWith('push refused')) throw e;
        unanswered++;
        c?.destroy();
        c = null;
      }
    }
    c?.destroy();
  }

  async function worker(w: number): Promise<void> {
    let c: LineClient | null = null;
    while (!stopWorkers) {
      try {
        c ??= await connectWhenUp(port, 60_000);
        const a = await c.send({ cmd: 'PULLB', queue: queues[w % queues.length], count: 100, timeout: 50 });
        if (!a.ok) throw new Error(`pull refused: ${a.error}`);
        const jobs = a.jobs as Job[];
        for (const j of jobs) if (acked.has(j.id)) duplicated++; // delivered again after an ok ack
        const answers = await Promise.all(jobs.map((j) => c!.send({ cmd: 'ACK', id: j.id, result: { w } })));
        answers.forEach((ans, i) => {
          const id = jobs[i]!.id;
          if (!ans.ok) return; // e.g. its lease was lost in a restart: it comes back
          if (acked.has(id)) duplicated++;
          acked.add(id);
        });
      } catch (e) {
        if ((e as Error).message.startsWith('pull refused')) throw e;
        c?.destroy();
        c = null;
      }
    }
    c?.destroy();
  }

  const load = [
    ...Array.from({ length: o.producers }, (_, i) => producer(i)),
    ...Array.from({ length: o.workers }, (_, i) => worker(i)),
  ];
  const loadDone = Promise.all(load);
  // a load that fails (a refused push or pull) stops the run; the server must not outlive it
  loadDone.catch(() => {
    stopLoad = stopWorkers = true;
    void server.stop('SIGKILL');
  });
  let kills = 0;
  const interval = (o.seconds * 1000) / (o.kills + 1);
  for (let k = 0; k < o.kills; k++) {
    await Promise.race([new Promise((r) => setTimeout(r, rnd(interval * 0.5, interval * 1.5))), loadDone]);
    if (stopWorkers) break;
    await server.stop('SIGKILL');
    kills++;
    server = await startServer({ ...env, PORT: String(port), LOG_LEVEL: 'info' }, 60_000);
    log(`# kill ${kills}/${o.kills}: pushed ${pushed.size}, acked ${acked.size}`);
  }
  await Promise.race([new Promise((r) => setTimeout(r, interval)), loadDone]);
  stopLoad = true;
  // drain: workers run until every job is finished
  try {
    const c = await connectWhenUp(port);
    await waitFor(
      async () => {
        const s = await c.ok({ cmd: 'STATS' });
        return s.queued === 0 && s.processing === 0 && s.delayed === 0;
      },
      120_000,
      'every job finished',
    );
    stopWorkers = true;
    await loadDone;
    c.destroy();
  } finally {
    stopWorkers = true;
    await server.stop('SIGTERM');
  }

  const sql = postgres(url, { max: 1, onnotice: () => {}, types: { int8: { to: 20, from: [20], serialize: String, parse: Number } } as never });
  const rows = await sql.unsafe<Array<{ id: number; state: string }>>('select id, state from flashq_jobs');
  await sql.end();
  await dropDatabase(o.adminUrl, url);
  const state = new Map(rows.map((r) => [r.id, r.state]));
  let lost = 0;
  for (const id of pushed) if (state.get(id) !== 'completed') lost++;
  let ackReverted = 0;
  for (const id of acked) if (state.get(id) !== 'completed') ackReverted++;
  const leftActive = rows.filter((r) => r.state !== 'completed').length;
  return {
    pushed: pushed.size,
    acked: acked.size,
    lost,
    duplicated,
    leftActive,
    ackReverted,
    kills,
    unanswered,
    seconds: (Date.now() - started) / 1000,
  };
}

async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
  } finally {
    await sql.end();
  }
}

export function formatReport(r: CrashReport): string {
  return (
    `pushed ${r.pushed}, acked ${r.acked}, lost ${r.lost}, duplicated ${r.duplicated}, left unfinished ${r.leftActive}, ` +
    `acks reverted ${r.ackReverted}, kills ${r.kills}, unanswered pushes ${r.unanswered}, ${r.seconds.toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  const arg = (name: string, def: number) => {
    const m = process.argv.find((a) => a.startsWith(`--${name}=`));
    return m ? Number(m.split('=')[1]) : def;
  };
  const adminUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    console.error('set DATABASE_URL to a PostgreSQL user that may create databases');
    process.exit(2);
  }
  const r = await runCrash({
    adminUrl,
    seconds: arg('seconds', 60),
    kills: arg('kills', 10),
    producers: arg('producers', 4),
    workers: arg('workers', 4),
    shards: arg('shards', 2),
  });
  console.log(formatReport(r));
  const bad = r.lost + r.duplicated + r.leftActive + r.ackReverted;
  process.exit(bad === 0 ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
