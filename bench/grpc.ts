/**
 * gRPC: PushBatch of 1000 jobs (~100 B of data each, 4 calls in flight) and ProcessJobs on one
 * bidirectional stream, each with two clients in the same run: raw bytes (the request encoded
 * once, results written by hand: what the server costs) and the usual @grpc/proto-loader client
 * (protobufjs encoding and decoding every message: what a Node user sees). Also the in-process
 * codec choice: the shipped hand-written codec against protobufjs on the same messages.
 *
 * A scenario module for bench/run.ts (`make bench`), and runnable alone:
 *   node dist/bench/grpc.js [--quick] [--no-write] [--profile]
 * which writes the `grpc` section of BENCHMARKS.md. --profile runs each measure once on a server
 * under `node --cpu-prof` and prints where each thread spent its time instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { fmt, machine, median, writeSection } from '../native-bench/report.js';
import type { JobView } from '../src/engine/types.js';
import { encodeGrpc, GrpcDecoder, GrpcMethod } from '../src/protocol/grpc-codec.js';
import { ProtoWriter } from '../src/protocol/grpc-wire.js';
import { DeliveryError } from './lib/delivery.js';
import { summarise } from './lib/profile.js';
import { payload } from './lib/raw.js';
import type { Metric, Scenario, StepContext } from './lib/scenario.js';
import { startFlashq, type FlashqServer } from './lib/server.js';

const JOB_BYTES = 100;
const BATCH = 1000;
const SERVICE = '/flashq.QueueService/';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = any;

function protoPath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto', 'flashq.proto'))) return join(dir, 'proto', 'flashq.proto');
    if (dirname(dir) === dir) throw new Error('proto/flashq.proto not found');
  }
}

const root = protobuf.loadSync(protoPath());
const T = (name: string) => root.lookupType(`flashq.${name}`);
const DATA = Buffer.from(JSON.stringify(payload(JOB_BYTES)));
const identity = (b: Buffer) => b;

function loaderClient(port: number): Raw {
  const def = protoLoader.loadSync(protoPath(), { keepCase: false, longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as Raw;
  return new pkg.flashq.QueueService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function rawClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function rawUnary(c: grpc.Client, method: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    c.makeUnaryRequest(SERVICE + method, identity, identity, bytes, new grpc.Metadata(), {}, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

async function queued(c: grpc.Client): Promise<{ queued: number; processing: number }> {
  const s = T('StatsResponse').toObject(T('StatsResponse').decode(await rawUnary(c, 'Stats', Buffer.alloc(0))), { longs: Number, defaults: true });
  return s as { queued: number; processing: number };
}

// ------------------------------------------------------------------ timing

/** CPU seconds (user + system, all threads) a process used so far; Linux /proc, else 0. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

export interface Rate {
  jobsPerSecond: number;
  /** CPU µs per job: a measure that a busy shared machine does not bend as much as wall time */
  serverUs: number;
  clientUs: number;
}

/** Wall time and the CPU both processes used, from now until `done(jobs)`. */
function clock(server: FlashqServer): (jobs: number) => Rate {
  const t0 = process.hrtime.bigint();
  const s0 = cpuOf(server.pid);
  const c0 = process.cpuUsage();
  return (jobs) => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { jobsPerSecond: jobs / seconds, serverUs: ((cpuOf(server.pid) - s0) * 1e6) / jobs, clientUs: (c.user + c.system) / jobs };
  };
}

// ------------------------------------------------------------------ PushBatch

/** Ids in a PushBatchResponse (ok = 1, then ids packed in field 2): the varints' last bytes. */
function idCount(b: Buffer): number {
  let i = 0;
  let count = 0;
  while (i < b.length) {
    const tag = b[i++]!;
    if (tag === 0x08) i++;
    else if (tag === 0x12) {
      let len = 0;
      for (let mul = 1; ; mul *= 128) {
        const x = b[i++]!;
        len += (x & 0x7f) * mul;
        if (x < 0x80) break;
      }
      for (const end = i + len; i < end; i++) if (b[i]! < 0x80) count++;
    } else throw new Error(`unexpected PushBatchResponse field tag ${tag}`);
  }
  return count;
}

/** PushBatch of 1000 jobs, `inFlight` calls at a time, until `n` jobs are accepted; jobs per second. */
export async function pushBatches(server: FlashqServer, n: number, mode: 'raw' | 'loader', queue: string, inFlight = 4): Promise<Rate> {
  const admin = rawClient(server.grpcPort);
  const jobs = Array.from({ length: BATCH }, () => ({ data: DATA }));
  const encoded = Buffer.from(T('PushBatchRequest').encode(T('PushBatchRequest').fromObject({ queue, jobs })).finish());
  const loader = mode === 'loader' ? loaderClient(server.grpcPort) : null;
  const raw = mode === 'raw' ? rawClient(server.grpcPort) : null;
  const one = (): Promise<number> =>
    loader
      ? new Promise((res, rej) => loader.pushBatch({ queue, jobs }, (err: Error | null, r: Raw) => (err ? rej(err) : res(r.ids.length))))
      : rawUnary(raw!, 'PushBatch', encoded).then(idCount);
  const before = (await queued(admin)).queued;
  let sent = 0;
  let accepted = 0;
  const done = clock(server);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < n) {
        sent += BATCH;
        // not `accepted += await …`: that reads `accepted` before the await and loses updates
        const k = await one();
        accepted += k;
      }
    }),
  );
  const rate = done(sent);
  const stored = (await queued(admin)).queued - before;
  loader?.close();
  raw?.close();
  admin.close();
  if (accepted !== sent || stored !== sent) throw new DeliveryError(`PushBatch: ${sent} sent, ${accepted} answered, ${stored} queued`);
  return rate;
}

// ------------------------------------------------------------------ ProcessJobs

function idOf(job: Buffer): number {
  // field 1 (id) is written first by the server; a varint after the 0x08 tag
  if (job[0] !== 0x08) return 0;
  let id = 0;
  let mul = 1;
  for (let i = 1; i < 11; i++) {
    const b = job[i]!;
    id += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
  }
  return id;
}

function resultBytes(id: number): Buffer {
  const out = [0x08];
  for (let v = id; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      break;
    }
    out.push((v % 128) | 0x80);
  }
  out.push(0x10, 0x01);
  return Buffer.from(out);
}

/** Fill a queue with `n` jobs, then process them all on one ProcessJobs stream; jobs per second. */
export async function processJobs(server: FlashqServer, n: number, mode: 'raw' | 'loader', queue: string, prefetch: number): Promise<Rate> {
  const admin = rawClient(server.grpcPort);
  const encoded = Buffer.from(T('PushBatchRequest').encode(T('PushBatchRequest').fromObject({ queue, jobs: Array.from({ length: BATCH }, () => ({ data: DATA })) })).finish());
  for (let i = 0; i < n; i += BATCH) await rawUnary(admin, 'PushBatch', encoded);
  const md = new grpc.Metadata();
  md.set('queue', queue);
  md.set('prefetch', String(prefetch));
  const seen = new Set<number>();
  let dup = 0;
  const done = clock(server);
  await new Promise<void>((resolve, reject) => {
    const loader = mode === 'loader' ? loaderClient(server.grpcPort) : null;
    const raw = mode === 'raw' ? rawClient(server.grpcPort) : null;
    const call: grpc.ClientDuplexStream<Raw, Raw> = loader ? loader.processJobs(md) : raw!.makeBidiStreamRequest(SERVICE + 'ProcessJobs', identity, identity, md);
    call.on('data', (job: Raw) => {
      const id = loader ? (job.id as number) : idOf(job as Buffer);
      if (seen.has(id)) dup++;
      seen.add(id);
      call.write(loader ? { id, success: true } : resultBytes(id));
      if (seen.size === n) call.end();
    });
    call.on('error', (e) => reject(e));
    call.on('status', () => {
      loader?.close();
      raw?.close();
      resolve();
    });
  });
  // every result applied: nothing queued or active is left
  for (;;) {
    const s = await queued(admin);
    if (s.queued === 0 && s.processing === 0) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const rate = done(n);
  admin.close();
  if (dup > 0 || seen.size !== n) throw new DeliveryError(`ProcessJobs: ${seen.size} distinct of ${n}, ${dup} duplicates`);
  return rate;
}

// ------------------------------------------------------------------ codec choice

function view(i: number): JobView {
  const now = Date.now();
  return {
    id: 256 * (i + 1) + 7, queue: 'bench', data: DATA.toString(), priority: 0, createdAt: now, runAt: now, startedAt: now, attempts: 1,
    maxAttempts: 1, backoff: 1000, ttl: 0, timeout: 0, uniqueKey: null, dependsOn: [], progress: 0, progressMsg: null, tags: [],
    lifo: false, state: 'active', result: null, error: null, finishedAt: 0, owner: 1,
  };
}

function perOp(fn: () => void, ms = 300): number {
  for (let i = 0; i < 20; i++) fn();
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let ns = 0;
  while (ns < ms * 1e6) {
    fn();
    ops++;
    ns = Number(process.hrtime.bigint() - t0);
  }
  return ns / ops / 1000;
}

/** µs per batch of 1000: shipped codec vs protobufjs doing the same conversions. */
export function codecChoice(): Array<{ label: string; ours: number; theirs: number }> {
  const push = T('PushBatchRequest').encode(T('PushBatchRequest').fromObject({ queue: 'bench', jobs: Array.from({ length: BATCH }, () => ({ data: DATA })) })).finish();
  const record = Buffer.concat([Buffer.from([GrpcMethod.PushBatch]), push]);
  const views = Array.from({ length: BATCH }, (_, i) => view(i));
  const pullb = { cmd: 'PULLB' as const, queue: 'bench', count: BATCH, timeout: null };
  const decoder = new GrpcDecoder();
  const writer = new ProtoWriter();
  const decodeOurs = perOp(() => decoder.decode(record));
  const decodeTheirs = perOp(() => {
    const m = T('PushBatchRequest').decode(push) as unknown as { queue: string; jobs: Array<{ data: Uint8Array }> };
    for (const j of m.jobs) {
      const text = Buffer.from(j.data).toString('utf8');
      JSON.parse(text);
    }
  });
  const encodeOurs = perOp(() => encodeGrpc(writer, pullb, { kind: 'jobs', jobs: views }));
  const encodeTheirs = perOp(() => {
    const jobs = views.map((v) => ({ ...v, data: Buffer.from(v.data), uniqueKey: undefined, progressMsg: undefined }));
    T('PullBatchResponse').encode(T('PullBatchResponse').fromObject({ jobs })).finish();
  });
  return [
    { label: 'decode PushBatchRequest of 1000 (JSON validated, text kept)', ours: decodeOurs, theirs: decodeTheirs },
    { label: 'encode PullBatchResponse of 1000 jobs', ours: encodeOurs, theirs: encodeTheirs },
  ];
}

// ------------------------------------------------------------------ scenario + standalone

const sizes = (quick: boolean) => ({ push: quick ? 100_000 : 500_000, process: quick ? 50_000 : 200_000 });
const PREFETCH = 1000;
let seq = 0;
const qname = (what: string) => `grpc.${what}.${process.pid}.${++seq}`;

async function withServer<T>(start: () => Promise<FlashqServer>, fn: (s: FlashqServer) => Promise<T>): Promise<T> {
  const s = await start();
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

type Measure = (s: FlashqServer, quick: boolean) => Promise<Rate>;

/** The four measures: id, row label, target (jobs/s), how. */
const MEASURES: Array<{ id: string; label: string; client: string; target?: number; run: Measure }> = [
  { id: 'pushbatch-raw', label: 'PushBatch ×1000', client: 'raw bytes', target: 300_000, run: (s, q) => pushBatches(s, sizes(q).push, 'raw', qname('pb')) },
  { id: 'pushbatch-loader', label: 'PushBatch ×1000', client: 'proto-loader', run: (s, q) => pushBatches(s, sizes(q).push, 'loader', qname('pb')) },
  { id: 'process-raw', label: 'ProcessJobs, one stream', client: 'raw bytes', target: 30_000, run: (s, q) => processJobs(s, sizes(q).process, 'raw', qname('pj'), PREFETCH) },
  { id: 'process-loader', label: 'ProcessJobs, one stream', client: 'proto-loader', run: (s, q) => processJobs(s, sizes(q).process, 'loader', qname('pj'), PREFETCH) },
];

const metrics = (r: Rate): Metric[] => [
  { key: 'throughput', unit: 'jobs/s', value: r.jobsPerSecond, better: 'higher' },
  { key: 'serverCpu', unit: 'µs/job', value: r.serverUs, better: 'lower' },
  { key: 'clientCpu', unit: 'µs/job', value: r.clientUs, better: 'lower' },
];

const NOTES = `PushBatch: ${BATCH} jobs of ~${JOB_BYTES} B data per call, 4 calls in flight on one channel, until the job count is accepted (checked with Stats). ProcessJobs: a queue filled first, then one stream (metadata prefetch=${PREFETCH}) acks every job as it arrives; the clock stops when Stats shows nothing queued or active. "raw" clients send pre-encoded bytes with identity serializers; "proto-loader" clients encode and decode every message with protobufjs. Client and server share the machine; CPU per job is user+system time of the server process (all threads) and of the client over the timed part.`;

/** Read off `node dist/bench/grpc.js --profile` (per-thread self time of the server). */
const BOUNDS = [
  'What bounds them (`node dist/bench/grpc.js --profile`): PushBatch is bound by the shard thread (about two thirds busy:',
  'garbage collection, the engine inserting jobs, validating each payload as JSON and making its text), while the front',
  'thread idles more than half the time: a PushBatch message crosses it as bytes. ProcessJobs is bound by per-message',
  'gRPC cost on both ends: grpc-js and HTTP/2 framing of one Job and one JobResult per job take ~12 µs of CPU per job in',
  'the server (front thread; the shard is ~80% idle) and as much in the client, and the front pays a ring wake-up',
  '(postMessage) per event-loop turn. On this shared 2-core machine the client, the front and the shard compete for',
  'the same cores, so the spread between runs is wide.',
].join(' ');

export const scenarios: Scenario[] = [
  {
    id: 'grpc',
    section: 'grpc',
    title: 'gRPC',
    system: 'flashQ',
    notes: NOTES,
    steps: ({ quick }) =>
      MEASURES.map((m) => ({
        id: m.id,
        label: `${m.label}, ${m.client} client`,
        ...(m.target ? { targets: [{ metric: 'throughput', op: '>=' as const, value: m.target }] } : {}),
        run: async (ctx: StepContext) => metrics(await withServer(() => ctx.startFlashq({ HTTP_PORT: '0' }), (s) => m.run(s, quick))),
      })),
  },
];

/** One run of the raw-client measures on servers under --cpu-prof; prints each thread's hottest functions. */
async function profile(quick: boolean): Promise<void> {
  const base = join('bench', 'results', 'profiles', `grpc-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  for (const m of MEASURES.filter((x) => x.client === 'raw bytes')) {
    const dir = join(base, m.id);
    const r = await withServer(() => startFlashq({ HTTP_PORT: '0' }, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] }), (s) => m.run(s, quick));
    process.stdout.write(`# ${m.id}: ${fmt(r.jobsPerSecond)} jobs/s (profiled)\n${summarise(dir, 12)}\n\n`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  if (args.includes('--profile')) return profile(quick);
  const runs = quick ? 1 : 3;
  const results: Rate[][] = MEASURES.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < MEASURES.length; k++) {
      results[k]!.push(await withServer(() => startFlashq({ HTTP_PORT: '0' }), (s) => MEASURES[k]!.run(s, quick)));
    }
    process.stderr.write(`run ${i + 1}/${runs}: ${MEASURES.map((m, k) => `${m.id} ${fmt(results[k]![i]!.jobsPerSecond)}`).join(', ')} jobs/s\n`);
  }
  const codec = codecChoice();
  const range = (xs: number[]) => (xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '');
  const us = (x: number) => x.toFixed(1);
  const n = sizes(quick);
  const body = [
    '## gRPC',
    '',
    `Machine: ${machine()}. Command: \`node dist/bench/grpc.js${args.length ? ' ' + args.join(' ') : ''}\` (median of ${runs} run${runs > 1 ? 's' : ''}; ${fmt(n.push)} jobs pushed, ${fmt(n.process)} processed per run).`,
    '',
    NOTES,
    '',
    '| measure | client | jobs/s | server CPU µs/job | client CPU µs/job | target |',
    '|---|---|---|---|---|---|',
    ...MEASURES.map((m, k) => {
      const rs = results[k]!;
      const tp = rs.map((r) => r.jobsPerSecond);
      return `| ${m.label} | ${m.client} | ${fmt(median(tp))}${range(tp)} | ${us(median(rs.map((r) => r.serverUs)))} | ${us(median(rs.map((r) => r.clientUs)))} | ${m.target ? `≥ ${fmt(m.target)}` : ''} |`;
    }),
    '',
    'Codec (one thread, µs per batch of 1000): the shipped hand-written codec against protobufjs reflection (proto/flashq.proto) doing the same work.',
    '',
    '| work | hand-written | protobufjs |',
    '|---|---|---|',
    ...codec.map((c) => `| ${c.label} | ${fmt(c.ours)} µs | ${fmt(c.theirs)} µs |`),
    '',
    BOUNDS,
  ].join('\n');
  if (!args.includes('--no-write')) writeSection('grpc', body);
  process.stdout.write(body + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
