/**
 * Ring vs postMessage between the main thread and a worker, the choice design.md rests on.
 *
 *   npx tsc -p tsconfig.json && node dist/native-bench/ring.js
 *
 * (a) throughput: 100-byte records, 1000 per frame and 1 per frame, main → worker, the worker
 *     walking every record; (b) round trip of one small record, main → worker → main.
 * Transports: the SharedArrayBuffer ring (RingLink, postMessage ping only when the peer sleeps),
 * postMessage of an exact-size copy (structured clone copies it again), postMessage transferring
 * that copy. postMessage gets a 4 MB in-flight window, the ring's capacity, so neither side may
 * run ahead without bound. Plus a one-thread table of raw ring operations (view vs copy reads,
 * tryWrite vs reserve/commit). Medians of 5 runs.
 */
import { MessageChannel, Worker, isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { loadavg } from 'node:os';
import { createLink, RingLink, type LinkEnd } from '../src/ring/link.js';
import { FrameBuilder, FrameReader } from '../src/ring/records.js';
import { SpscRing } from '../src/ring/spsc-ring.js';
import { Kind } from '../src/ring/kinds.js';
import { fmt, machine, median, writeSection } from './report.js';

const CAPACITY = 4 << 20;
const WINDOW = CAPACITY;
const RUNS = 5;

type Role = 'sink' | 'echo';
interface BenchWorkerData {
  ringBench: true;
  role: Role;
  end?: LinkEnd;
  port?: MessagePort;
  transfer?: boolean;
}

// ---- worker side --------------------------------------------------------------------------------

/** Walks a frame like a shard would (every header, first payload byte); answers CONTROL/echoes. */
function makeHandler(role: Role, reply: (frame: Uint8Array) => void): (frame: Uint8Array) => number {
  const rd = new FrameReader();
  const out = new FrameBuilder();
  let records = 0;
  let sum = 0;
  return (frame) => {
    rd.reset(frame);
    out.reset();
    while (rd.next()) {
      if (rd.kind === Kind.CONTROL) out.add(Kind.CONTROL, 0, 0, records, sum & 0xffff, '');
      else if (role === 'echo') out.add(Kind.ANSWER, rd.format, rd.code, rd.conn, rd.seq, rd.payload());
      else {
        records++;
        sum += rd.end > rd.start ? rd.bytes[rd.start]! : 0;
      }
    }
    if (out.count > 0) reply(out.finish());
    return frame.length;
  };
}

function benchWorker(d: BenchWorkerData): void {
  if (d.end) {
    const end = d.end;
    const link: RingLink = new RingLink(end, makeHandler(d.role, (f) => link.send(f)), { holdInboundWhileBlocked: true });
    end.port.on('close', () => link.close());
    return;
  }
  const port = d.port!;
  let consumed = 0;
  let acked = 0;
  const handle = makeHandler(d.role, (f) => {
    const copy = new Uint8Array(f);
    if (d.transfer) port.postMessage(copy, [copy.buffer]);
    else port.postMessage(copy);
  });
  port.on('message', (m: Uint8Array) => {
    consumed += handle(m);
    if (consumed - acked >= WINDOW / 4) port.postMessage((acked = consumed));
  });
}

if (!isMainThread && (workerData as BenchWorkerData | null)?.ringBench) benchWorker(workerData as BenchWorkerData);

// ---- main side ----------------------------------------------------------------------------------

/** One transport from the front's point of view: send a frame, get frames back. */
interface Peer {
  send(frame: Uint8Array): void | Promise<void>;
  onFrame: (frame: Uint8Array) => void;
  stop(): Promise<void>;
}

function spawn(data: BenchWorkerData, transferList: MessagePort[]): Worker {
  return new Worker(new URL(import.meta.url), { workerData: data, transferList });
}

function ringPeer(role: Role): Peer {
  const { front, shard } = createLink(CAPACITY);
  const worker = spawn({ ringBench: true, role, end: shard }, [shard.port]);
  const peer: Peer = {
    onFrame: () => {},
    send: (frame) => (link.send(frame) ? undefined : new Promise<void>((r) => (link.onDrain = r))),
    stop: async () => {
      link.close();
      await worker.terminate();
    },
  };
  const link = new RingLink(front, (f) => peer.onFrame(f));
  return peer;
}

function postPeer(role: Role, transfer: boolean): Peer {
  const { port1, port2 } = new MessageChannel();
  const worker = spawn({ ringBench: true, role, port: port2, transfer }, [port2]);
  let sent = 0;
  let acked = 0;
  let waiter: (() => void) | null = null;
  const peer: Peer = {
    onFrame: () => {},
    send: (frame) => {
      // An exact-size copy: posting the view would clone its whole backing buffer. (Not
      // frame.slice(): on a Buffer that is a view, and transferring it detaches the builder.)
      const copy = new Uint8Array(frame);
      if (transfer) port1.postMessage(copy, [copy.buffer]);
      else port1.postMessage(copy);
      sent += frame.length;
      if (sent - acked <= WINDOW) return;
      return new Promise<void>((r) => (waiter = r));
    },
    stop: async () => {
      port1.close();
      await worker.terminate();
    },
  };
  port1.on('message', (m: number | Uint8Array) => {
    if (typeof m === 'number') {
      acked = m;
      if (waiter && sent - acked <= WINDOW) {
        const w = waiter;
        waiter = null;
        w();
      }
    } else peer.onFrame(m);
  });
  return peer;
}

const transports: { name: string; make: (role: Role) => Peer }[] = [
  { name: 'ring (SharedArrayBuffer)', make: (role) => ringPeer(role) },
  { name: 'postMessage, clone of a copy', make: (role) => postPeer(role, false) },
  { name: 'postMessage, transfer of a copy', make: (role) => postPeer(role, true) },
];

const payload = new Uint8Array(100).map((_, i) => i);
const control = (() => {
  const b = new FrameBuilder(64);
  b.add(Kind.CONTROL, 0, 0, 0, 0, '');
  return new Uint8Array(b.finish());
})();

/** Round-trip a CONTROL record: everything sent before it has been processed when it returns. */
async function sync(peer: Peer): Promise<Uint8Array> {
  const got = new Promise<Uint8Array>((r) => (peer.onFrame = (f) => r(new Uint8Array(f))));
  await peer.send(control);
  return got;
}

async function throughput(make: () => Peer, perFrame: number, total: number): Promise<number> {
  const peer = make();
  await sync(peer); // worker up and listening
  const b = new FrameBuilder();
  const t0 = process.hrtime.bigint();
  for (let seq = 0; seq < total; ) {
    b.reset();
    for (let i = 0; i < perFrame; i++, seq++) b.add(Kind.REQUEST, 1, 0, seq & 1023, seq, payload);
    const p = peer.send(b.finish());
    if (p) await p;
  }
  const reply = new FrameReader().reset(await sync(peer));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  reply.next();
  if (reply.conn !== total) throw new Error(`worker saw ${reply.conn} of ${total} records`);
  await peer.stop();
  return total / secs;
}

async function latency(make: () => Peer, n: number): Promise<{ p50: number; p99: number }> {
  const peer = make();
  await sync(peer);
  const b = new FrameBuilder(256);
  const samples: number[] = [];
  for (let i = -1000; i < n; i++) {
    b.reset();
    b.add(Kind.REQUEST, 1, 0, 1, i >>> 0, payload.subarray(0, 32));
    const back = new Promise<void>((r) => (peer.onFrame = () => r()));
    const t0 = process.hrtime.bigint();
    const p = peer.send(b.finish());
    if (p) await p;
    await back;
    if (i >= 0) samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await peer.stop();
  samples.sort((x, y) => x - y);
  return { p50: samples[n >> 1]!, p99: samples[Math.floor(n * 0.99)]! };
}

/** Raw ring operations in one thread: what a frame costs with no thread hop at all. */
function ringOps(frameBytes: number): { name: string; nsPerFrame: number }[] {
  const frame = new Uint8Array(frameBytes).fill(7);
  const iters = Math.max(2000, Math.floor(2e9 / 8 / (frameBytes + 200)));
  const b = new FrameBuilder();
  const records = Math.round(frameBytes / 116);
  const cases: [string, (r: SpscRing) => void][] = [
    ['(for scale) FrameBuilder: reset + add 100-byte records + finish', () => {
      b.reset();
      for (let i = 0; i < records; i++) b.add(Kind.REQUEST, 1, 0, i, i, payload);
      b.finish();
    }],
    ['tryWrite + read (view)', (r) => { r.tryWrite(frame); r.read(); }],
    ['tryWrite + readCopy', (r) => { r.tryWrite(frame); r.readCopy(); }],
    ['reserve + set + commit + read', (r) => { r.reserve(frameBytes)!.set(frame); r.commit(); r.read(); }],
    ['reserve + commit + read (no copy: the floor for building in place)', (r) => { r.reserve(frameBytes); r.commit(); r.read(); }],
  ];
  return cases.map(([name, op]) => {
    const runs: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const r = new SpscRing(SpscRing.create(CAPACITY));
      for (let i = 0; i < 1000; i++) op(r);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) op(r);
      runs.push(Number(process.hrtime.bigint() - t0) / iters);
    }
    return { name, nsPerFrame: median(runs) };
  });
}

/**
 * Run every transport once per round, `RUNS` rounds, and keep each one's median: on a shared
 * machine the load drifts, and interleaving gives every row the same drift.
 */
async function interleaved<T>(measure: (t: (typeof transports)[number]) => Promise<T>, key: (x: T) => number): Promise<T[]> {
  const results: T[][] = transports.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < transports.length; i++) results[i]!.push(await measure(transports[i]!));
  }
  return results.map((rs) => rs.sort((a, b) => key(a) - key(b))[rs.length >> 1]!);
}

export async function runRingBench(): Promise<string> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  log('### Ring vs postMessage (native-bench/ring.ts)');
  log('');
  const script = relative(process.cwd(), process.argv[1] ?? 'dist/native-bench/ring.js');
  const outDir = script.slice(0, -'/native-bench/ring.js'.length) || '.';
  const build = outDir === 'dist' ? 'npx tsc -p tsconfig.json' : `npx tsc -p tsconfig.json --outDir ${outDir}`;
  const load = loadavg()[0]!.toFixed(1);
  log(`${machine()}. Command, from the repo root: \`${build} && node ${script}\`. Medians of ${RUNS} interleaved runs; 1-min load average at start ${load} (the machine is shared: compare rows, not runs).`);
  log('');
  log('Throughput main → worker, 100-byte records (116 B with header), the worker walks every record:');
  log('');
  log('| transport | 1000 records/frame: records/s | MB/s | 1 record/frame: records/s |');
  log('|---|---|---|---|');
  const batched = await interleaved((t) => throughput(() => t.make('sink'), 1000, 2_000_000), (x) => x);
  const single = await interleaved((t) => throughput(() => t.make('sink'), 1, 300_000), (x) => x);
  transports.forEach((t, i) => log(`| ${t.name} | ${fmt(batched[i]!)} | ${fmt((batched[i]! * 116) / 1e6)} | ${fmt(single[i]!)} |`));
  log('');
  log('Round trip of one 32-byte record, main → worker → main, one at a time (µs):');
  log('');
  log('| transport | median | p99 |');
  log('|---|---|---|');
  const lat = await interleaved((t) => latency(() => t.make('echo'), 10_000), (x) => x.p50);
  transports.forEach((t, i) => log(`| ${t.name} | ${lat[i]!.p50.toFixed(1)} | ${lat[i]!.p99.toFixed(1)} |`));
  log('');
  log('Raw ring operations in one thread (no hop), ns per frame:');
  log('');
  log('| operation | 116,000-byte frame | 116-byte frame |');
  log('|---|---|---|');
  const big = ringOps(116_000);
  const small = ringOps(116);
  big.forEach((b, i) => log(`| ${b.name} | ${fmt(b.nsPerFrame)} | ${fmt(small[i]!.nsPerFrame)} |`));
  return lines.join('\n');
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  writeSection('ring', await runRingBench());
}
