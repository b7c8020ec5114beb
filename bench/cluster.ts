/**
 * Cluster mode on this machine: 1, 2 and 3 nodes over one PostgreSQL (PERSIST=sync), each node a
 * process with SHARDS=0. The nodes share this machine's 2 cores with each other, with PostgreSQL
 * and with the load generator, so absolute rates only fall with more nodes here; what the table
 * shows is the cost of a forwarded request (clients on one node, most partitions elsewhere) next
 * to clients that reach each queue's owner (read from GET /cluster/partitions), the failover time
 * after SIGKILL of a node, and how fast the survivors reload what they took over.
 *
 *   node dist/bench/cluster.js [--seconds=4] [--jobs-per-node=200000] [--no-write]
 *
 * Uses DATABASE_URL (a user that may CREATE DATABASE) or starts a private PostgreSQL.
 */
import { performance } from 'node:perf_hooks';
import { partitionOf } from '../src/engine/partition.js';
import { freshDatabase, PrivatePostgres } from '../test/store/pg.js';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';
import { RawConn, answerIds, encode, isOk } from './lib/raw.js';
import { freePort, startFlashq, type FlashqServer } from './lib/server.js';

const args = process.argv.slice(2);
const SECONDS = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 4);
const RELOAD_JOBS = Number(args.find((a) => a.startsWith('--jobs-per-node='))?.slice(16) ?? 200_000);
const write = !args.includes('--no-write');
const TTL = 3000;
const BATCH = 100;
const WINDOW = 8;
const QUEUES = Array.from({ length: 24 }, (_, i) => `bench-c${i}`);

interface Node {
  id: string;
  server: FlashqServer;
}

async function startNode(url: string, id: string): Promise<Node> {
  const clusterPort = await freePort();
  const server = await startFlashq({
    CLUSTER_MODE: '1',
    DATABASE_URL: url,
    NODE_ID: id,
    CLUSTER_PORT: String(clusterPort),
    LEASE_TTL_MS: String(TTL),
    SHARDS: '0',
  });
  return { id, server };
}

async function get<T>(n: Node, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${n.server.httpPort}${path}`);
  return ((await res.json()) as { data: T }).data;
}

/** Wait until the live nodes serve every partition between them; returns partition → node. */
async function settled(nodes: Node[], timeoutMs: number): Promise<Map<number, Node>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const owner = new Map<number, Node>();
    let ok = true;
    for (const n of nodes) {
      try {
        for (const p of (await get<{ partitions: number[] }>(n, '/health')).partitions) {
          if (owner.has(p)) ok = false;
          owner.set(p, n);
        }
      } catch {
        ok = false;
      }
    }
    const counts = nodes.map((n) => [...owner.values()].filter((o) => o === n).length);
    // and every node routes by that map (each refreshes its view of the others every TTL/4)
    if (ok && owner.size === 256) {
      for (const n of nodes) {
        const map = await get<Array<{ partition: number; owner: string | null }>>(n, '/cluster/partitions').catch(() => []);
        if (map.length !== 256 || map.some((r) => r.owner !== owner.get(r.partition)?.id)) ok = false;
      }
    }
    // balanced too: a node that just joined has its share, so no partition moves during a measurement
    if (ok && owner.size === 256 && counts.every((c) => Math.abs(c - 256 / nodes.length) < 1)) return owner;
    if (performance.now() > deadline) {
      const tails = nodes.map((n) => `--- ${n.id}\n${n.server.output().split('\n').filter((l) => !l.includes('"level":"info"')).slice(-15).join('\n')}`);
      throw new Error(`cluster not settled in ${timeoutMs} ms (${owner.size} partitions served, ${counts.join('/')})\n${tails.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Pipelined PUSHB for SECONDS: one connection per (node, queue group); `pick` chooses the node a
 * queue's requests go to. Returns jobs/s.
 */
async function pushRate(pick: (queue: string) => Node): Promise<number> {
  const byNode = new Map<Node, string[]>();
  for (const q of QUEUES) {
    const n = pick(q);
    byNode.set(n, [...(byNode.get(n) ?? []), q]);
  }
  let jobs = 0;
  let stop = false;
  const data = Array.from({ length: BATCH }, (_, i) => ({ data: { i, pad: 'x'.repeat(80) } }));
  const runs = [...byNode].map(async ([node, queues]) => {
    let k = 0;
    let inflight = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => (done = r));
    const conn = await RawConn.connect(node.server.port, 'json', (answers) => {
      for (const a of answers) {
        if (!isOk('json', a)) throw new Error(`PUSHB failed: ${a.toString()}`);
        jobs += BATCH;
        inflight--;
      }
      if (stop) {
        if (inflight === 0) done();
        return;
      }
      while (inflight < WINDOW) send();
    });
    const send = () => {
      const queue = queues[k++ % queues.length]!;
      conn.write(encode('json', { cmd: 'PUSHB', queue, jobs: data }));
      inflight++;
    };
    while (inflight < WINDOW) send();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    stop = true;
    await finished;
    conn.close();
  });
  const t0 = performance.now();
  await Promise.all(runs);
  return (jobs / (performance.now() - t0)) * 1000;
}

/** Sequential PUSH round trips through `via` to a queue owned by `owner`: median µs. */
async function roundTrip(via: Node, queue: string, count = 2000): Promise<number> {
  const times: number[] = [];
  let resolve: () => void = () => {};
  const conn = await RawConn.connect(via.server.port, 'json', () => resolve());
  const req = encode('json', { cmd: 'PUSH', queue, data: { rt: 1 } });
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      resolve = r;
      conn.write(req);
    });
    times.push((performance.now() - t0) * 1000);
  }
  conn.close();
  return median(times);
}

async function fill(via: Node, perQueue: number): Promise<number> {
  let pushed = 0;
  const data = Array.from({ length: 1000 }, (_, i) => ({ data: { i, pad: 'x'.repeat(80) } }));
  let resolve: () => void = () => {};
  const conn = await RawConn.connect(via.server.port, 'json', (answers) => {
    for (const a of answers) answerIds('json', a, () => pushed++);
    resolve();
  });
  for (const q of QUEUES) {
    for (let n = 0; n < perQueue; n += 1000) {
      await new Promise<void>((r) => {
        resolve = r;
        conn.write(encode('json', { cmd: 'PUSHB', queue: q, jobs: data }));
      });
    }
  }
  conn.close();
  return pushed;
}

async function main(): Promise<void> {
  const pg = process.env.DATABASE_URL ? null : await PrivatePostgres.create();
  const admin = process.env.DATABASE_URL ?? pg!.url;
  const rows: string[] = [];
  const result: Record<string, unknown> = {};
  try {
    for (const count of (process.env.BENCH_NODES ?? '1,2,3').split(',').map(Number)) {
      const url = await freshDatabase(`bench_cluster_${count}`, admin);
      const nodes: Node[] = [];
      for (let i = 0; i < count; i++) nodes.push(await startNode(url, `bench-${i}`));
      try {
        const owner = await settled(nodes, 30_000);
        const ownerOf = (q: string) => owner.get(partitionOf(q))!;
        const first = nodes[0]!;
        const viaOne = await pushRate(() => first);
        const viaOwner = await pushRate(ownerOf);
        const local = QUEUES.find((q) => ownerOf(q) === first)!;
        const remote = QUEUES.find((q) => ownerOf(q) !== first) ?? local;
        const rtLocal = await roundTrip(first, local);
        const rtRemote = await roundTrip(first, remote);
        rows.push(
          `| ${count} | ${fmt(viaOne)} | ${fmt(viaOwner)} | ${rtLocal.toFixed(0)} | ${count > 1 ? rtRemote.toFixed(0) : '—'} |`,
        );
        result[`nodes${count}`] = { viaOne, viaOwner, rtLocal, rtRemote };
        console.log(JSON.stringify({ nodes: count, viaOne, viaOwner, rtLocal, rtRemote }));

        if (count === 3) {
          // failover: fill, SIGKILL a node that is not the first, time until the others serve all
          await fill(first, Math.ceil(RELOAD_JOBS / QUEUES.length));
          const victim = nodes[2]!;
          const taken = [...owner.values()].filter((n) => n === victim).length;
          const t0 = performance.now();
          process.kill(victim.server.pid, 'SIGKILL');
          await settled(nodes.slice(0, 2), 10 * TTL);
          const failoverMs = performance.now() - t0;
          result.failover = { failoverMs, partitions: taken, ttl: TTL };
          console.log(JSON.stringify(result.failover));
        }
      } finally {
        await Promise.all(nodes.map((n) => n.server.stop()));
      }
    }
  } finally {
    await pg?.stop();
  }
  const f = result.failover as { failoverMs: number; partitions: number };
  const text = [
    `Machine: ${machine()}. Each node is a process with SHARDS=0 and PERSIST=sync over one PostgreSQL; nodes,`,
    'PostgreSQL and the load generator share the same 2 cores, so adding nodes cannot add throughput here:',
    'the table shows what forwarding costs. "via one node": every client on node 0 (2/3 of the queues of a',
    '3-node cluster are forwarded); "via owners": each queue\'s client on the node that serves it',
    `(GET /cluster/partitions). PUSHB of ${BATCH} jobs, ${WINDOW} batches in flight per connection, ${SECONDS} s;`,
    'round trip = sequential PUSH, median.',
    '',
    '| nodes | PUSHB via one node (jobs/s) | PUSHB via owners (jobs/s) | PUSH round trip, local (µs) | PUSH round trip, forwarded (µs) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Failover: SIGKILL of one of 3 nodes (LEASE_TTL_MS=${TTL}) holding ${f?.partitions ?? '?'} partitions and its share of`,
    `${RELOAD_JOBS} waiting jobs → the survivors serve every partition after ${f ? Math.round(f.failoverMs) : '?'} ms`,
    '(lease expiry, a new leader\'s assignment, and the reload).',
    '',
    'Command: `node dist/bench/cluster.js`',
  ].join('\n');
  console.log(text);
  if (write) writeSection('cluster', text);
}

await main();
