/**
 * Scale bounds and the price of TLS, for BENCHMARKS.md:
 * - server RSS (whole process) with 1M waiting jobs of 100 B, with 10k queues, with 10k idle TCP
 *   connections, and while 100 WebSocket subscribers stop reading during a burst of events;
 * - TLS against plain TCP: PUSHB throughput and sequential PUSH round trips, alternating A/B runs
 *   in the same window (medians of the rounds).
 * Run: `node dist/bench/scale.js [--quick]`. It raises its open-file limit to the hard limit
 * (10k connections need ~10k descriptors on each side) by re-running itself under `ulimit -n`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { FlashqClient } from '../src/client/index.js';
import { makePki } from '../test/helpers/tls.js';
import { startFlashq, type FlashqServer } from './lib/server.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;

function fdLimit(): { soft: number; hard: number } {
  const out = execFileSync('sh', ['-c', 'echo $(ulimit -Sn) $(ulimit -Hn)']).toString().trim().split(' ');
  const n = (s: string) => (s === 'unlimited' ? 1 << 20 : Number(s));
  return { soft: n(out[0]!), hard: n(out[1]!) };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Median of three RSS samples, so one collection in progress does not decide the number. */
async function settled(s: FlashqServer): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    await pause(400);
    xs.push(s.rss());
  }
  return xs.sort((a, b) => a - b)[1]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
function row(what: string, value: string, note: string): void {
  rows.push(`| ${what} | ${value} | ${note} |`);
  console.error(`${what}: ${value} (${note})`);
}

async function pushJobs(client: FlashqClient, queue: string, n: number, bytes: number): Promise<void> {
  const data = { p: 'x'.repeat(Math.max(0, bytes - 8)) };
  const batch = Array.from({ length: 1000 }, () => ({ data }));
  let left = Math.ceil(n / 1000);
  const lane = async () => {
    while (left-- > 0) await client.pushBatch(queue, batch);
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}

async function waitingJobs(): Promise<void> {
  const n = quick ? 200_000 : 1_000_000;
  const s = await startFlashq({});
  const c = new FlashqClient({ port: s.port });
  await c.connect();
  await pushJobs(c, 'warm', 20_000, 100);
  const before = await settled(s);
  await pushJobs(c, 'scale-jobs', n, 100);
  const after = await settled(s);
  row(`${n.toLocaleString('en-US')} waiting jobs (100 B)`, `${(after / MiB).toFixed(0)} MiB`, `+${((after - before) / MiB).toFixed(0)} MiB over the empty server, ${((after - before) / n).toFixed(0)} B/job`);
  await c.close();
  await s.stop();
}

async function manyQueues(): Promise<void> {
  const n = 10_000;
  const s = await startFlashq({ MAX_QUEUES: String(n) });
  const c = new FlashqClient({ port: s.port });
  await c.connect();
  const before = await settled(s);
  for (let i = 0; i < n; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, k) => c.push(`scale-q-${i + k}`, { k })));
  const after = await settled(s);
  row(`${n.toLocaleString('en-US')} queues (one waiting job each)`, `${(after / MiB).toFixed(0)} MiB`, `+${((after - before) / MiB).toFixed(1)} MiB, ${((after - before) / n / 1024).toFixed(1)} KiB/queue`);
  await c.close();
  await s.stop();
}

async function idleConnections(): Promise<void> {
  const n = quick ? 2000 : 10_000;
  const s = await startFlashq({ MAX_CONNECTIONS: String(n + 100) });
  const before = await settled(s);
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, () => new Promise<void>((res, rej) => {
        const k = net.connect(s.port, '127.0.0.1', () => res());
        k.once('error', rej);
        socks.push(k);
      })),
    );
  }
  // the last one must still be served: all n are accepted and counted
  const probe = new FlashqClient({ port: s.port });
  await probe.connect();
  await probe.stats();
  const after = await settled(s);
  row(`${n.toLocaleString('en-US')} idle TCP connections`, `${(after / MiB).toFixed(0)} MiB`, `+${((after - before) / MiB).toFixed(1)} MiB, ${((after - before) / n / 1024).toFixed(1)} KiB/connection`);
  await probe.close();
  for (const k of socks) k.destroy();
  await s.stop();
}

/** RSS growth while `jobs` events of small jobs are pushed, with `subs` subscribers that never read. */
async function eventBurst(subs: number, jobs: number): Promise<{ growth: number; closes: Map<number, number> }> {
  const s = await startFlashq({});
  const c = new FlashqClient({ port: s.port });
  await c.connect();
  const sockets: WebSocket[] = [];
  const closes = new Map<number, number>();
  for (let i = 0; i < subs; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${s.httpPort}/ws`);
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    ws.on('close', (code) => closes.set(code, (closes.get(code) ?? 0) + 1));
    ws.on('error', () => {});
    // a subscriber that stops reading: its socket is not read again until the end
    (ws as unknown as { _socket: net.Socket })._socket.pause();
    sockets.push(ws);
  }
  await pushJobs(c, 'warm', 20_000, 16);
  const before = await settled(s);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, s.rss())), 50);
  await pushJobs(c, 'scale-events', jobs, 16);
  peak = Math.max(peak, await settled(s));
  clearInterval(sampler);
  for (const ws of sockets) (ws as unknown as { _socket: net.Socket })._socket.resume();
  const deadline = Date.now() + 5000;
  while ([...closes.values()].reduce((a, b) => a + b, 0) < subs && Date.now() < deadline) await pause(50);
  for (const ws of sockets) ws.terminate();
  await c.close();
  await s.stop();
  return { growth: peak - before, closes };
}

async function slowSubscribers(): Promise<void> {
  const subs = 100;
  const jobs = quick ? 100_000 : 300_000;
  // the same pushes without subscribers: the jobs' own memory, to subtract
  const control = await eventBurst(0, jobs);
  const slow = await eventBurst(subs, jobs);
  const codes = [...slow.closes].map(([code, n]) => `${n}× close ${code}`).join(', ') || 'none closed';
  row(
    `${subs} WebSocket subscribers that stop reading, ${jobs.toLocaleString('en-US')} job.pushed events`,
    `+${((slow.growth - control.growth) / MiB).toFixed(0)} MiB`,
    `peak RSS growth with them (+${(slow.growth / MiB).toFixed(0)} MiB) minus the same pushes without them (+${(control.growth / MiB).toFixed(0)} MiB); subscribers: ${codes}`,
  );
}

async function tlsCost(): Promise<void> {
  const pki = makePki();
  const rounds = quick ? 1 : 3;
  const n = quick ? 100_000 : 300_000;
  const seq = quick ? 2000 : 5000;
  const result = { plain: { pushb: [] as number[], rtt: [] as number[] }, tls: { pushb: [] as number[], rtt: [] as number[] } };
  try {
    for (let r = 0; r < rounds; r++) {
      const order: Array<'plain' | 'tls'> = r % 2 === 0 ? ['plain', 'tls'] : ['tls', 'plain'];
      for (const mode of order) {
        const s = await startFlashq(mode === 'tls' ? { TLS_CERT_FILE: pki.certFile, TLS_KEY_FILE: pki.keyFile } : {});
        const c = new FlashqClient({ port: s.port, ...(mode === 'tls' ? { tls: { ca: pki.ca } } : {}) });
        await c.connect();
        await pushJobs(c, 'tls-warm', 20_000, 100);
        let t = performance.now();
        await pushJobs(c, `tls-${r}`, n, 100);
        result[mode].pushb.push(n / ((performance.now() - t) / 1000));
        t = performance.now();
        for (let i = 0; i < seq; i++) await c.push('tls-seq', { i });
        result[mode].rtt.push(((performance.now() - t) * 1000) / seq);
        await c.close();
        await s.stop();
      }
    }
  } finally {
    pki.remove();
  }
  const p = median(result.plain.pushb);
  const t = median(result.tls.pushb);
  row('PUSHB ×1000 (100 B jobs), 4 in flight: plain → TLS', `${(p / 1000).toFixed(0)}k → ${(t / 1000).toFixed(0)}k jobs/s`, `TLS/plain = ${(t / p).toFixed(2)} (median of ${rounds} alternating rounds)`);
  const pr = median(result.plain.rtt);
  const tr = median(result.tls.rtt);
  row('sequential PUSH round trip: plain → TLS', `${pr.toFixed(0)} → ${tr.toFixed(0)} µs`, `TLS/plain = ${(tr / pr).toFixed(2)}`);
}

async function main(): Promise<void> {
  const { soft, hard } = fdLimit();
  if (soft < 10_500 && !process.env.SCALE_REEXEC) {
    if (hard < 10_500) console.error(`open-file hard limit ${hard} is below 10,500: the 10k connection step will fail`);
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync('sh', ['-c', `ulimit -n ${hard} && exec "${process.execPath}" "${self}" ${process.argv.slice(2).join(' ')}`], { stdio: 'inherit', env: { ...process.env, SCALE_REEXEC: '1' } });
    process.exit(r.status ?? 1);
  }
  const t0 = Date.now();
  // --only=jobs,queues,connections,subscribers,tls runs a subset
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? null;
  const steps: Array<[string, () => Promise<void>]> = [
    ['jobs', waitingJobs],
    ['queues', manyQueues],
    ['connections', idleConnections],
    ['subscribers', slowSubscribers],
    ['tls', tlsCost],
  ];
  for (const [name, step] of steps) if (only === null || only.includes(name)) await step();
  console.log(`| measure | value | notes |\n|---|---|---|\n${rows.join('\n')}`);
  console.error(`(${((Date.now() - t0) / 1000).toFixed(0)} s, open-file limit ${fdLimit().soft})`);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
