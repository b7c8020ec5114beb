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
import { startServer, waitFor, type RunningServer } from '../test/helpers/server.js';
import { LineClient, connectWhenUp } from '../test/store/line-client.js';
import { account, CrashLedger, dropDatabase, freshDatabase, numberArg, rnd } from './lib/crash-ledger.js';

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
  /** completed twice (CrashLedger's rule): delivered again after an ok ack, or acked ok twice */
  duplicated: number;
  /** delivered again after a failed or unsent ack (at-least-once: allowed) */
  redelivered: number;
  leftActive: number;
  ackReverted: number;
  kills: number;
  /** pushes whose answer never came (the server died): they may or may not exist */
  unanswered: number;
  seconds: number;
}

type Job = { id: number };

export async function runCrash(o: CrashOptions): Promise<CrashReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  const url = await freshDatabase(o.adminUrl);
  const env = { DATABASE_URL: url, PERSIST: 'sync', HTTP_PORT: '0', GRPC_PORT: '0', SHARDS: String(o.shards ?? 2), KEEP_COMPLETED: '100000000', LOG_LEVEL: 'warn' };
  let server: RunningServer = await startServer({ ...env, LOG_LEVEL: 'info' }, 30_000);
  const port = server.port;
  const queues = ['crash-a', 'crash-b', 'crash-c'];
  const ledger = new CrashLedger();
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
        ledger.pushOk(size === 1 ? [a.id as number] : (a.ids as number[]));
      } catch (e) {
        if ((e as Error).message.startsWith('push refused')) throw e;
        ledger.unanswered++;
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
        for (const j of jobs) ledger.delivered(j.id);
        const answers = await Promise.all(jobs.map((j) => c!.send({ cmd: 'ACK', id: j.id, result: { w } })));
        answers.forEach((ans, i) => {
          const id = jobs[i]!.id;
          if (ans.ok) ledger.ackOk(id);
          else ledger.ackFailed++; // e.g. its lease was lost in a restart: it comes back
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
    log(`# kill ${kills}/${o.kills}: pushed ${ledger.pushed.size}, acked ${ledger.acked.size}`);
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

  const acc = await account(url, ledger);
  await dropDatabase(o.adminUrl, url);
  return {
    pushed: ledger.pushed.size,
    acked: ledger.acked.size,
    lost: acc.lost,
    duplicated: ledger.completedTwice,
    redelivered: ledger.redelivered,
    leftActive: acc.leftActive,
    ackReverted: acc.ackReverted,
    kills,
    unanswered: ledger.unanswered,
    seconds: (Date.now() - started) / 1000,
  };
}

export function formatReport(r: CrashReport): string {
  return (
    `pushed ${r.pushed}, acked ${r.acked}, lost ${r.lost}, completed twice ${r.duplicated}, redelivered ${r.redelivered}, left unfinished ${r.leftActive}, ` +
    `acks reverted ${r.ackReverted}, kills ${r.kills}, unanswered pushes ${r.unanswered}, ${r.seconds.toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  const arg = numberArg;
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
