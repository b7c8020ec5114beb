/**
 * gRPC codec: the hand-written protobuf codec the shards run (src/protocol/grpc-*.ts) against
 * protobufjs on proto/flashq.proto, for the two messages that carry jobs in bulk. Run:
 * `npm run build && node dist/native-bench/grpc-codec.js [--quick]` (from the repo root; rewrites
 * the `grpc-codec` section of BENCHMARKS.md). The hand codec stays only where it wins clearly.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { JobView } from '../src/engine/types.js';
import { GrpcDecoder, GrpcMethod, writeJob } from '../src/protocol/grpc-codec.js';
import { ProtoWriter } from '../src/protocol/grpc-wire.js';
import { activeJobView } from './job-view.js';
import { fmt, machine, measureAll, writeSection } from './report.js';

const quick = process.argv.includes('--quick');
const ROUND_MS = quick ? 150 : 600;
const ROUNDS = quick ? 3 : 5;
const BATCH = 1000;

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/flashq.proto', import.meta.url)));
const PushBatchRequest = root.lookupType('flashq.PushBatchRequest');
const Job = root.lookupType('flashq.Job');

const loadBefore = loadavg()[0]!;
const payload = (i: number) => Buffer.from(JSON.stringify({ i, email: `user${i}@example.com`, pad: 'x'.repeat(60) }));

// ------------------------------------------------------------- decode PushBatch ×1000

const pushBatch = Buffer.from(
  PushBatchRequest.encode(
    PushBatchRequest.fromObject({ queue: 'emails', jobs: Array.from({ length: BATCH }, (_, i) => ({ data: payload(i), priority: i % 3, maxAttempts: 3 })) }),
  ).finish(),
);
const record = Buffer.concat([Buffer.from([GrpcMethod.PushBatch]), pushBatch]);

/** What the shard needs from a decoded job: its data as checked JSON text and its options. */
interface Decoded {
  data: string;
  priority: number;
  maxAttempts: number;
}

function protobufjsDecode(validate: boolean): Decoded[] {
  const m = PushBatchRequest.decode(pushBatch) as unknown as { jobs: Array<{ data: Uint8Array; priority: number; maxAttempts: number }> };
  const out: Decoded[] = [];
  for (const j of m.jobs) {
    const data = Buffer.from(j.data.buffer, j.data.byteOffset, j.data.byteLength).toString('utf8');
    // the shard refuses a batch with invalid JSON data: JSON.parse is protobufjs's way to know
    if (validate) JSON.parse(data);
    out.push({ data, priority: j.priority, maxAttempts: j.maxAttempts || 1 });
  }
  return out;
}

// --------------------------------------------------------- encode one Job stream message

const job: JobView = activeJobView({
  id: 513,
  data: payload(7).toString(),
  priority: 2,
  createdAt: 1_700_000_000_123,
  startedAt: 1_700_000_000_456,
});
const writer = new ProtoWriter();

function handEncode(): Uint8Array {
  writer.reset();
  writeJob(writer, job);
  return writer.finish();
}

function protobufjsEncode(): Uint8Array {
  return Job.encode({
    id: job.id,
    queue: job.queue,
    data: Buffer.from(job.data),
    priority: job.priority,
    createdAt: job.createdAt,
    runAt: job.runAt,
    startedAt: job.startedAt,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    backoff: job.backoff,
    ttl: job.ttl,
    timeout: job.timeout,
    dependsOn: job.dependsOn,
    progress: job.progress,
    lifo: job.lifo,
  }).finish();
}

const decoder = new GrpcDecoder();
const decodeGrpc = (bytes: Uint8Array) => decoder.decode(bytes);

// the two codecs must agree before their speed means anything
const hand = decodeGrpc(record).request as { jobs: Array<{ data: string; priority: number; maxAttempts: number }> };
const viaLib = protobufjsDecode(true);
if (hand.jobs.length !== BATCH || hand.jobs.some((j, i) => j.data !== viaLib[i]!.data || j.priority !== viaLib[i]!.priority || j.maxAttempts !== viaLib[i]!.maxAttempts)) {
  throw new Error('hand codec and protobufjs decode the PushBatch differently');
}
const back = Job.toObject(Job.decode(handEncode()), { longs: Number }) as { id: number; data: Uint8Array; timeout: number };
if (back.id !== job.id || Buffer.from(back.data).toString() !== job.data || back.timeout !== job.timeout) throw new Error('hand-encoded Job does not read back');
// protobufjs also writes fields at their default (0, false): the bytes differ, the messages may not
const asObject = (bytes: Uint8Array) => JSON.stringify(Job.toObject(Job.decode(bytes), { longs: Number, defaults: true, bytes: String }));
if (asObject(handEncode()) !== asObject(protobufjsEncode())) throw new Error('the two Job encodings read back differently');

let sink: unknown;
const [dHand, dLib, dLibBare, eHand, eLib] = measureAll(
  [
    () => (sink = decodeGrpc(record)),
    () => (sink = protobufjsDecode(true)),
    () => (sink = protobufjsDecode(false)),
    () => (sink = handEncode()),
    () => (sink = protobufjsEncode()),
  ],
  ROUNDS,
  ROUND_MS,
) as [number, number, number, number, number];

const us = (ns: number) => (ns / 1000).toFixed(1);
const ratio = (slow: number, fast: number) => `${(slow / fast).toFixed(2)}×`;
const command = `npm run build && node dist/native-bench/grpc-codec.js${quick ? ' --quick' : ''}`;
writeSection(
  'grpc-codec',
  [
    '## gRPC codec: hand codec vs protobufjs (native-bench/grpc-codec.ts)',
    '',
    `${machine()}; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after (a shared machine: compare rows, not runs). Command: \`${command}\`. Medians of ${ROUNDS} rounds of ${ROUND_MS} ms per case after a warm-up, rounds interleaved. Both codecs are checked to agree first.`,
    '',
    `| message | hand codec (shipped) | protobufjs | protobufjs / hand |`,
    '|---|---:|---:|---:|',
    `| decode PushBatch ×${BATCH} (${fmt(pushBatch.length)} B), data checked as JSON | ${us(dHand)} µs | ${us(dLib)} µs | ${ratio(dLib, dHand)} |`,
    `| decode PushBatch ×${BATCH}, protobufjs without the JSON check (its floor) | | ${us(dLibBare)} µs | ${ratio(dLibBare, dHand)} |`,
    `| encode one Job stream message (${fmt(handEncode().length)} B; protobufjs ${fmt(protobufjsEncode().length)} B) | ${fmt(eHand)} ns | ${fmt(eLib)} ns | ${ratio(eLib, eHand)} |`,
  ].join('\n'),
);
console.log({ decodeHandUs: us(dHand), decodeProtobufjsUs: us(dLib), decodeProtobufjsBareUs: us(dLibBare), encodeHandNs: fmt(eHand), encodeProtobufjsNs: fmt(eLib) });
if (sink === Symbol.for('never')) console.log(sink);
