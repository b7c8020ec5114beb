/**
 * Cluster crash suite: three nodes (CLUSTER_MODE=1, PERSIST=sync) on loopback over one
 * PostgreSQL; producers and workers connect through every node (so most requests are forwarded to
 * another node that owns the queue's partition) and move to another node when theirs dies. Nodes
 * are killed with SIGKILL on a schedule (every other kill the leader) and restarted with the same
 * id and ports. At the end, once every node is back and the partitions are settled: every push
 * answered ok exists and is completed, every ack answered ok stayed completed, nothing is left
 * unfinished, and no job was completed twice.
 *
 * Completed twice (CrashLedger's rule, at-least-once delivery): delivered again after an ACK for it
 * was answered ok, or two ACKs for it answered ok. A job delivered again after its earlier ACK
 * failed or was never sent (the worker's node or the owner died) is a redelivery, counted apart.
 *
 *   node dist/bench/cluster-crash.js [--seconds=60] [--kills=6] [--producers=3] [--workers=6] [--ttl=3000]
 *
 * Needs DATABASE_URL (or TEST_DATABASE_URL) of a user that may CREATE DATABASE; each run uses a
 * fresh database. test/cluster/crash.test.ts runs a short version.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../test/helpers/server.js';
import { ClusterProc, waitSettled } from '../test/cluster/node-cluster.js';
import { LineClient, connectWhenUp, type Answer } from '../test/store/line-client.js';
import { account, type Accounting, CrashLedger, dropDatabase, freshDatabase, numberArg, rnd } from './lib/crash-ledger.js';

export interface ClusterCrashOptions {
  adminUrl: string;
  seconds: number;
  kills: number;
  producers: number;
  workers: number;
  /** LEASE_TTL_MS of the nodes */
  ttlMs: number;
  log?: (line: string) => void;
}

export interface ClusterCrashReport {
  pushed: number;
  acked: number;
  lost: number;
  completedTwice: number;
  redelivered: number;
  leftActive: number;
  ackReverted: number;
  kills: number;
  leaderKills: number;
  /** ms from a SIGKILL until the survivors served every partition (kills followed by a wait) */
  failovers: number[];
  /** ms from a restart until the three nodes were balanced again */
  rejoins: number[];
  /** pushes answered with an error: not acknowledged */
  refused: number;
  /** jobs of refused pushes found stored: `refused` (the answer said nothing was done) must be 0 */
  storedRefused: Accounting['storedRefused'];
  unanswered: number;
  ackFailed: number;
  /** answers no crash explains (neither a refusal to retry nor a lost lease): the run fails */
  unexpected: string[];
  forwarded: number;
  seconds: number;
}

const NODE_IDS = ['node-a', 'node-b', 'node-c'];
const QUEUES = Array.from({ length: 12 }, (_, i) => `crash-${i}`);

/** Refusals that say "not done, try again" while partitions move or a node is down. */
const RETRYABLE = /not served|Storage unavailable|link to node|unavailable/i;
/** An ACK refused because the job is no longer held by this delivery (its lease was failed back). */
const ACK_STALE = /not (found|active)|not processing|unknown job|lease|no such job/i;

export async function runClusterCrash(o: ClusterCrashOptions): Promise<ClusterCrashReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  const url = await freshDatabase(o.adminUrl, 'cluster_crash');
  // LOG_LEVEL info: startServer waits for the "listening" line
  const env = { PERSIST: 'sync', KEEP_COMPLETED: '100000000', LOG_LEVEL: 'info' };
  const nodes: ClusterProc[] = [];
  for (const id of NODE_IDS) nodes.push(await ClusterProc.start(url, id, o.ttlMs, env, 60_000));
  const ports = nodes.map((n) => n.port);
  const dead: ClusterProc[] = [];
  let keep = false;
  const ledger = new CrashLedger();
  const unexpected: string[] = [];
  const report: Pick<ClusterCrashReport, 'failovers' | 'rejoins'> = { failovers: [], rejoins: [] };
  let stopLoad = false;
  let stopWorkers = false;
  const started = Date.now();

  try {
    await waitSettled(nodes, 30_000, 'three nodes share the partitions', true);

    const odd = (what: string, a: Answer) => {
      if (unexpected.length < 20) unexpected.push(`${what}: ${JSON.stringify(a)}`);
    };

    /** A connection to some node, moving to the next node when the current one does not answer. */
    async function connect(from: number): Promise<{ c: LineClient; node: number }> {
      for (let i = 0; ; i++) {
        const node = (from + i) % ports.length;
        try {
          return { c: await connectWhenUp(ports[node]!, 500), node };
        } catch {
          if (stopWorkers) throw new Error('stopped');
        }
      }
    }

    async function producer(p: number): Promise<void> {
      let conn: { c: LineClient; node: number } | null = null;
      let node = p % ports.length;
      let n = 0;
      while (!stopLoad) {
        try {
          conn ??= await connect(node);
          node = conn.node;
          const queue = QUEUES[rnd(0, QUEUES.length - 1)]!;
          const size = rnd(1, 20);
          // data.k tags each job, so a refused push found stored at the end is identified
          const jobs = Array.from({ length: size }, (_, i) => ({ data: { k: `${p}:${n + i}` }, max_attempts: 1000, backoff: 1 }));
          n += size;
          const a = await conn.c.send(size === 1 ? { cmd: 'PUSH', queue, ...jobs[0] } : { cmd: 'PUSHB', queue, jobs });
          if (a.ok) {
            ledger.pushOk(size === 1 ? [a.id as number] : (a.ids as number[]));
          } else {
            ledger.pushRefused(jobs.map((j) => j.data.k), String(a.error));
            if (!RETRYABLE.test(String(a.error))) odd('push', a);
            await new Promise((r) => setTimeout(r, 20)); // pace retries while partitions move
          }
        } catch {
          ledger.unanswered++;
          conn?.c.destroy();
          conn = null;
          node = (node + 1) % ports.length;
        }
      }
      conn?.c.destroy();
    }

    async function worker(w: number): Promise<void> {
      let conn: { c: LineClient; node: number } | null = null;
      let node = w % ports.length;
      let turn = w;
      while (!stopWorkers) {
        try {
          conn ??= await connect(node);
          node = conn.node;
          const queue = QUEUES[turn++ % QUEUES.length]!;
          const a = await conn.c.send({ cmd: 'PULLB', queue, count: 50, timeout: 20 });
          if (!a.ok) {
            if (!RETRYABLE.test(String(a.error))) odd('pull', a);
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const jobs = a.jobs as Array<{ id: number }>;
          for (const j of jobs) ledger.delivered(j.id, `through ${NODE_IDS[node]}`);
          const c = conn.c;
          const answers = await Promise.all(jobs.map((j) => c.send({ cmd: 'ACK', id: j.id, result: { w } })));
          answers.forEach((ans, i) => {
            if (ans.ok) return ledger.ackOk(jobs[i]!.id, `through ${NODE_IDS[node]}`);
            ledger.ackFailed++;
            if (!RETRYABLE.test(String(ans.error)) && !ACK_STALE.test(String(ans.error))) odd('ack', ans);
          });
        } catch {
          conn?.c.destroy();
          conn = null;
          node = (node + 1) % ports.length;
        }
      }
      conn?.c.destroy();
    }

    const load = Promise.all([
      ...Array.from({ length: o.producers }, (_, i) => producer(i)),
      ...Array.from({ length: o.workers }, (_, i) => worker(i)),
    ]);

    let kills = 0;
    let leaderKills = 0;
    const interval = (o.seconds * 1000) / (o.kills + 1);
    let next = Date.now();
    for (let k = 0; k < o.kills; k++) {
      next += rnd(interval * 0.6, interval * 1.4);
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      let victim = rnd(0, nodes.length - 1);
      if (k % 2 === 0) {
        const leaders = await Promise.all(nodes.map((n) => n.isLeader()));
        const l = leaders.indexOf(true);
        if (l >= 0) victim = l;
      }
      const wasLeader = await nodes[victim]!.isLeader();
      const t0 = Date.now();
      nodes[victim]!.kill('SIGKILL');
      await nodes[victim]!.server.exited;
      kills++;
      if (wasLeader) leaderKills++;
      // every third kill the node comes back at once, before its leases expired (its earlier
      // incarnation's leases are taken over); the others wait for the survivors to take over
      const quick = k % 3 === 2;
      let failover = '';
      if (!quick) {
        await waitSettled(nodes, 10 * o.ttlMs, `the survivors serve every partition after kill ${kills}`);
        const ms = Date.now() - t0;
        report.failovers.push(ms);
        failover = `, failover ${ms} ms`;
      }
      const t1 = Date.now();
      dead.push(nodes[victim]!);
      nodes[victim] = await nodes[victim]!.restart();
      await waitSettled(nodes, 20 * o.ttlMs, `three nodes balanced after restart ${kills}`, true);
      report.rejoins.push(Date.now() - t1);
      log(
        `# kill ${kills}/${o.kills} ${NODE_IDS[victim]}${wasLeader ? ' (leader)' : ''}${quick ? ' restarted at once' : failover}, ` +
          `rejoined in ${Date.now() - t1} ms: pushed ${ledger.pushed.size}, acked ${ledger.acked.size}, redelivered ${ledger.redelivered}`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, next + interval - Date.now())));
    stopLoad = true;
    await waitSettled(nodes, 20 * o.ttlMs, 'three nodes settled for the drain', true);
    // drain: workers run until no job is waiting, active or delayed anywhere in the cluster
    const c = await connectWhenUp(ports[0]!);
    try {
      await waitFor(
        async () => {
          const s = await c.send({ cmd: 'STATS' });
          return s.ok && s.queued === 0 && s.processing === 0 && s.delayed === 0;
        },
        120_000,
        'every job finished',
      );
    } finally {
      c.destroy();
    }
    stopWorkers = true;
    await load;
    const forwarded = await forwardedTotal(nodes);
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(nodes.map((n) => n.server.stop('SIGTERM')));
    const acc = await account(url, ledger);
    if (process.env.CRASH_KEEP === '1' && (acc.lost > 0 || ledger.completedTwice > 0)) {
      keep = true;
      const dir = mkdtempSync(join(tmpdir(), 'cluster-crash-'));
      for (const n of [...nodes, ...dead]) writeFileSync(join(dir, `${n.nodeId}-${n.server.proc.pid}.log`), n.server.output());
      writeFileSync(join(dir, 'ledger.json'), JSON.stringify({ url, lost: acc.lostIds, twice: ledger.twice }, null, 1));
      log(`# kept database ${url}; node logs and ledger in ${dir}`);
    }
    return {
      pushed: ledger.pushed.size,
      acked: ledger.acked.size,
      lost: acc.lost,
      completedTwice: ledger.completedTwice,
      redelivered: ledger.redelivered,
      leftActive: acc.leftActive,
      ackReverted: acc.ackReverted,
      kills,
      leaderKills,
      ...report,
      refused: ledger.refused,
      storedRefused: acc.storedRefused,
      unanswered: ledger.unanswered,
      ackFailed: ledger.ackFailed,
      unexpected,
      forwarded,
      seconds,
    };
  } catch (e) {
    // the whole story of each node, for the investigation (waitSettled's error has only tails)
    const dir = mkdtempSync(join(tmpdir(), 'cluster-crash-'));
    for (const n of nodes) writeFileSync(join(dir, `${n.nodeId}.log`), n.server.output());
    for (const [i, n] of dead.entries()) writeFileSync(join(dir, `${n.nodeId}-killed-${i}.log`), n.server.output());
    log(`# node logs in ${dir}`);
    throw e;
  } finally {
    stopLoad = stopWorkers = true;
    for (const n of nodes) n.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.server.exited));
    if (!keep) await dropDatabase(o.adminUrl, url);
  }
}

/** flashq_cluster_forwarded_total summed over the nodes (since their last restart). */
async function forwardedTotal(nodes: ClusterProc[]): Promise<number> {
  let sum = 0;
  for (const n of nodes) {
    const res = await fetch(`http://127.0.0.1:${n.server.httpPort}/metrics/prometheus`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
    const text = res && res.ok ? await res.text() : '';
    const m = /^flashq_cluster_forwarded_total\s+(\d+)/m.exec(text);
    if (m) sum += Number(m[1]);
  }
  return sum;
}

export function formatClusterReport(r: ClusterCrashReport): string {
  const range = (xs: number[]) => (xs.length === 0 ? '—' : `${Math.min(...xs)}–${Math.max(...xs)} ms`);
  return [
    `pushes ok ${r.pushed}, lost ${r.lost}, completed twice ${r.completedTwice}, redeliveries ${r.redelivered}, ` +
      `acks ok ${r.acked}, acks reverted ${r.ackReverted}, left unfinished ${r.leftActive}`,
    `kills ${r.kills} (leader ${r.leaderKills}), failover ${range(r.failovers)} [${r.failovers.join(', ')}], rejoin ${range(r.rejoins)}`,
    `pushes refused ${r.refused} (jobs of them stored: ${r.storedRefused.refused} said not done, ` +
      `${r.storedRefused.uncertain} said may have been applied, ${r.storedRefused.other} other), unanswered ${r.unanswered}, acks failed ${r.ackFailed}, forwarded since last restarts ${r.forwarded}, ${r.seconds.toFixed(1)} s`,
    `rule: completed twice = delivered again after an ACK answered ok, or two ACKs answered ok; ` +
      `a delivery after a failed or unsent ACK is a redelivery (at-least-once)`,
    ...r.unexpected.map((u) => `unexpected answer: ${u}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    console.error('set DATABASE_URL to a PostgreSQL user that may create databases');
    process.exit(2);
  }
  const r = await runClusterCrash({
    adminUrl,
    seconds: numberArg('seconds', 60),
    kills: numberArg('kills', 6),
    producers: numberArg('producers', 3),
    workers: numberArg('workers', 6),
    ttlMs: numberArg('ttl', 3000),
  });
  console.log(formatClusterReport(r));
  const bad = r.lost + r.completedTwice + r.leftActive + r.ackReverted + r.storedRefused.refused + r.unexpected.length;
  process.exit(bad === 0 ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
