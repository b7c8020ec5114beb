/**
 * Codec micro-benchmarks: what the shards pay per request to decode and encode, and what the
 * front pays to route. Run: `npm run build && node dist/native-bench/codec.js` (from the repo
 * root; rewrites the `codec` section of BENCHMARKS.md). `--quick` shortens every measurement.
 */
import { loadavg } from 'node:os';
import { pack, Packr, unpack } from 'msgpackr';
import type { JobView } from '../src/engine/types.js';
import { DEFAULT_MAX_BATCH, OBJECT_COMMANDS } from '../src/protocol/commands.js';
import { RequestDecoder } from '../src/protocol/decode.js';
import { parseJson } from '../src/protocol/decode-error.js';
import { AnswerEncoder } from '../src/protocol/encode.js';
import { type Obj } from '../src/protocol/fields.js';
import { AnswerWriter } from '../src/protocol/answer-writer.js';
import { jobJson } from '../src/protocol/job-json.js';
import { RawJsonSource, StringifySource } from '../src/protocol/payload-text.js';
import type { Request } from '../src/protocol/request.js';
import { Format, type Result } from '../src/protocol/result.js';
import { RouteScanner } from '../src/protocol/route-scan.js';
import { fmt, machine, measureAll as measureRounds, writeSection } from './report.js';
import { activeJobView } from './job-view.js';

const quick = process.argv.includes('--quick');
const ROUND_MS = quick ? 150 : 600;
const ROUNDS = quick ? 3 : 5;

function measureAll(fns: Array<() => unknown>): number[] {
  return measureRounds(fns, ROUNDS, ROUND_MS);
}

let sink: unknown;

// one of each, as a shard and a front own them
const decoder = new RequestDecoder();
const encoder = new AnswerEncoder();
const scanner = new RouteScanner();
const ropeWriter = new AnswerWriter();
function keep(v: unknown): void {
  sink = v;
}

// ---------------------------------------------------------------- inputs

const BATCH = 1000;

/** A ~100-byte payload, different per job like real traffic. */
function payload(i: number): Record<string, unknown> {
  return { email: `user${i}@example.com`, template: 'welcome', vars: { name: `User ${i}`, plan: 'pro', n: i } };
}

const jobsIn = Array.from({ length: BATCH }, (_, i) => (i % 4 === 0 ? { data: payload(i), priority: 5 } : { data: payload(i) }));
const pushbObj = { cmd: 'PUSHB', queue: 'emails', jobs: jobsIn };
const pushbJson = Buffer.from(JSON.stringify(pushbObj));
const pushbMsgpack = pack(pushbObj);
const pushbQueueLast = Buffer.from(JSON.stringify({ cmd: 'PUSHB', jobs: jobsIn, queue: 'emails' }));
const pushbMsgpackQueueLast = pack({ cmd: 'PUSHB', jobs: jobsIn, queue: 'emails' });
const dataBytes = JSON.stringify(payload(500)).length;

const pushLine = Buffer.from(JSON.stringify({ cmd: 'PUSH', queue: 'emails', data: payload(1), priority: 3 }));
const ackLine = Buffer.from('{"cmd":"ACK","id":1234567,"result":{"sent":true}}');
const pushMsgpack = pack({ cmd: 'PUSH', queue: 'emails', data: payload(1), priority: 3 });
const ackMsgpack = pack({ cmd: 'ACK', id: 1234567, result: { sent: true } });

function view(i: number): JobView {
  return activeJobView({
    id: 256 * (i + 1) + 7,
    data: JSON.stringify(payload(i)),
    priority: i % 4 === 0 ? 5 : 0,
    createdAt: 1704067200000 + i,
    startedAt: 1704067260000,
  });
}

/** A JOB as a plain object, for msgpackr's own packers. */
function jobObject(j: JobView): Record<string, unknown> {
  return {
    id: j.id,
    queue: j.queue,
    data: JSON.parse(j.data) as unknown,
    priority: j.priority,
    created_at: j.createdAt,
    run_at: j.runAt,
    started_at: j.startedAt,
    attempts: j.attempts,
    max_attempts: j.maxAttempts,
    backoff: j.backoff,
    ttl: j.ttl === 0 ? null : j.ttl,
    timeout: j.timeout === 0 ? null : j.timeout,
    unique_key: j.uniqueKey,
    depends_on: j.dependsOn,
    progress: j.progress,
    progress_msg: j.progressMsg,
    tags: j.tags,
    lifo: j.lifo,
  };
}

const pulled: Result = { kind: 'jobs', jobs: Array.from({ length: BATCH }, (_, i) => view(i)) };
const pullbRequest: Request = { cmd: 'PULLB', queue: 'emails', count: BATCH, timeout: 0 };

// ---------------------------------------------------------------- runs

const opts = { maxBatch: DEFAULT_MAX_BATCH };
const decodePushb = OBJECT_COMMANDS.PUSHB!;
const raw = new RawJsonSource();
const stringify = new StringifySource();

const loadBefore = loadavg()[0]!;
const rows: string[] = [];
/** measured ns per call, by short name, for the conclusions */
const ns = new Map<string, number>();

function table(title: string, unit: 'batch' | 'request', cases: Array<[string, string, () => unknown]>): void {
  const perBatch = unit === 'batch';
  rows.push('', title, '', perBatch ? '| path | per batch | jobs/s |' : '| request | per request | requests/s |', '|---|---|---|');
  const times = measureAll(cases.map(([, , fn]) => () => keep(fn())));
  for (const [k, [id, name]] of cases.entries()) {
    const t = times[k]!;
    ns.set(id, t);
    const cells = perBatch ? `| ${name} | ${fmt(t / 1000)} µs | ${fmt((BATCH * 1e9) / t)} |` : `| ${name} | ${fmt(t)} ns | ${fmt(1e9 / t)} |`;
    rows.push(cells);
    console.log(cells);
  }
}

function ratio(slow: string, fast: string): string {
  return `${(ns.get(slow)! / ns.get(fast)!).toFixed(1)}×`;
}

console.log(`PUSHB of ${BATCH} jobs, data ~${dataBytes} B; JSON line ${pushbJson.length} B, MessagePack ${pushbMsgpack.length} B`);

table('**Decode PUSHB** (per batch of 1000; jobs/s on one core)', 'batch', [
  ['json', 'decodeRequest TcpJson (shipped: lite PUSHB parse, data validated in place, never built)', () => decoder.decode(Format.TcpJson, pushbJson, opts)],
  ['stringify', 'JSON.parse, then JSON.stringify(parsed.data) per job', () => decodePushb(parseJson(pushbJson, null) as Obj, stringify, opts)],
  [
    'slice',
    'JSON.parse, then slice each data\'s raw span (byte walker)',
    () => decodePushb(parseJson(pushbJson, null) as Obj, raw.reset(pushbJson, 0, pushbJson.length, false), opts),
  ],
  ['parse', 'JSON.parse of the line alone (floor of any JSON.parse design)', () => JSON.parse(pushbJson.toString())],
  ['msgpack', 'decodeRequest TcpMsgpack (unpack, JSON.stringify per data)', () => decoder.decode(Format.TcpMsgpack, pushbMsgpack, opts)],
  ['unpack', 'msgpackr unpack alone', () => unpack(pushbMsgpack)],
]);

const plainPackr = new Packr({ useRecords: false });
const recordsPackr = new Packr({ useRecords: true });
const structuresPackr = new Packr({ structures: [] });
const pulledJobs = pulled.kind === 'jobs' ? pulled.jobs : [];
const encodeCases: Array<[string, string, () => unknown]> = [
  ['tcpjson', 'TcpJson (shipped: each job\'s text written into one buffer, data inserted raw)', () => encoder.answer(Format.TcpJson, pullbRequest, pulled, 42)],
  [
    'rope',
    'the same text as one concatenated string, then Buffer.from',
    () => {
      let s = '{"ok":true,"reqId":42,"jobs":[';
      for (let i = 0; i < pulledJobs.length; i++) s += (i === 0 ? '' : ',') + jobJson(ropeWriter, pulledJobs[i]!);
      return Buffer.from(s + ']}\n');
    },
  ],
  ['http', 'Http envelope (job views with state)', () => encoder.answer(Format.Http, pullbRequest, pulled, null)],
  ['tcpmsgpack', 'TcpMsgpack (shipped: data transcoded from its JSON text, keys pre-encoded)', () => encoder.answer(Format.TcpMsgpack, pullbRequest, pulled, 42)],
  ['packr', 'msgpackr pack of the answer objects (JSON.parse per data)', () => plainPackr.pack({ ok: true, reqId: 42, jobs: pulledJobs.map(jobObject) })],
  ['records', 'msgpackr records (useRecords), same objects', () => recordsPackr.pack({ ok: true, reqId: 42, jobs: pulledJobs.map(jobObject) })],
  ['structures', 'msgpackr shared structures, same objects', () => structuresPackr.pack({ ok: true, reqId: 42, jobs: pulledJobs.map(jobObject) })],
];
table(`**Encode a PULLB answer of ${BATCH} jobs**`, 'batch', encodeCases);
const sizes = encodeCases
  .filter(([id]) => id !== 'rope')
  .map(([id, , fn]) => `${id} ${fmt((fn() as Uint8Array).length)} B`);

table('**Route scan on the front** (per request)', 'request', [
  ['scan-push', 'JSON PUSH (cmd, queue first)', () => scanner.scanJson(pushLine, 0, pushLine.length)],
  ['scan-ack', 'JSON ACK (id)', () => scanner.scanJson(ackLine, 0, ackLine.length)],
  ['scan-pushb', `JSON PUSHB ${BATCH} jobs, queue first`, () => scanner.scanJson(pushbJson, 0, pushbJson.length)],
  ['scan-last', `JSON PUSHB ${BATCH} jobs, queue last (walks ${fmt(pushbQueueLast.length)} B)`, () => scanner.scanJson(pushbQueueLast, 0, pushbQueueLast.length)],
  ['mscan-push', 'MessagePack PUSH', () => scanner.scanMsgpack(pushMsgpack, 0, pushMsgpack.length)],
  ['mscan-ack', 'MessagePack ACK', () => scanner.scanMsgpack(ackMsgpack, 0, ackMsgpack.length)],
  ['mscan-pushb', `MessagePack PUSHB ${BATCH} jobs, queue first`, () => scanner.scanMsgpack(pushbMsgpack, 0, pushbMsgpack.length)],
  ['mscan-last', `MessagePack PUSHB ${BATCH} jobs, queue last`, () => scanner.scanMsgpack(pushbMsgpackQueueLast, 0, pushbMsgpackQueueLast.length)],
]);

const conclusions = [
  '',
  'What this run says:',
  `- Job data as text: slicing raw spans after JSON.parse vs JSON.stringify per job: ${ratio('stringify', 'slice')}; ` +
    `the shipped lite parse vs JSON.parse + stringify: ${ratio('stringify', 'json')}, vs JSON.parse alone: ${ratio('parse', 'json')}. ` +
    'Raw text also keeps the payload exactly as sent (integers beyond 2^53, number spelling).',
  `- PUSHB decode, JSON vs MessagePack: ${ratio('msgpack', 'json')} in favour of JSON lines.`,
  `- PULLB answer, one rope string vs writing job by job: ${ratio('rope', 'tcpjson')}; ` +
    `MessagePack shipped vs msgpackr objects: ${ratio('packr', 'tcpmsgpack')} (records ${ratio('records', 'tcpmsgpack')}, structures ${ratio('structures', 'tcpmsgpack')}; ` +
    'both need msgpackr-aware clients, so answers stay plain MessagePack); JSON vs MessagePack answer: ' +
    `${ratio('tcpmsgpack', 'tcpjson')}.`,
  `- Routing a PUSHB costs the front ${fmt(ns.get('scan-pushb')!)} ns when cmd/queue come first (the usual order), ` +
    `${fmt(ns.get('scan-last')! / 1000)} µs when the queue comes after the jobs.`,
];

const command = `npm run build && node dist/native-bench/codec.js${quick ? ' --quick' : ''}`;
writeSection(
  'codec',
  [
    '## Codecs (native-bench/codec.ts)',
    '',
    `${machine()}; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after (a shared machine: compare rows, not runs). Command: \`${command}\`. Medians of ${ROUNDS} rounds of ${ROUND_MS} ms per case after a warm-up, rounds interleaved across the cases of a table.`,
    `PUSHB of ${BATCH} jobs with ~${dataBytes}-byte data (JSON line ${fmt(pushbJson.length)} B, MessagePack ${fmt(pushbMsgpack.length)} B).`,
    `Answer sizes: ${sizes.join('; ')}.`,
    ...rows,
    ...conclusions,
  ].join('\n'),
);
if (sink === Symbol.for('never')) console.log(sink);
