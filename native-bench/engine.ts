/**
 * In-process throughput of the Engine alone (no I/O, no threads): pushes and pull+ack cycles of
 * 1M jobs with ~100-byte payloads, batched by 1000 and one at a time, plus the heap each waiting
 * job costs at 1M waiting (payload strings excluded: they exist before the engine sees them).
 * Each run is a fresh process, so no run inherits the heap or JIT state of another.
 *
 *   npx tsc -p tsconfig.json --outDir .tmp/engine-dist && node --expose-gc .tmp/engine-dist/native-bench/engine.js [jobs] [runs]
 * (from the repository root; with the default 1M jobs it rewrites the `engine` section of BENCHMARKS.md)
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import type { JobInput } from '../src/engine/types.js';
import { fmt, machine, median, writeSection } from './report.js';

const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 5);
const CHILD = process.argv[4] === '--run';
const BATCH = 1000;
const QUEUE = 'bench';
const COMMAND = 'npx tsc -p tsconfig.json --outDir .tmp/engine-dist && node --expose-gc .tmp/engine-dist/native-bench/engine.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(1);
}

function engine(): Engine {
  return new Engine({ owns: () => true, keepCompleted: 100_000, maxQueues: 10_000, persist: false });
}

/**
 * Distinct ~100-byte JSON payloads, created before timing: a shard holds each job's payload as
 * one string after parsing, and the engine keeps that string, so they belong to the live heap.
 */
function payloads(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`{"user":"user-${String(i).padStart(8, '0')}","template":"welcome","locale":"en-GB","attempt":1,"pad":"xxxxxxxxxxxx"}`);
  }
  return out;
}

const NO_IDS: number[] = [];
const NO_TAGS: string[] = [];

/**
 * A parsed PUSH item. The engine does not keep these objects (a shard parses them per request
 * and drops them), so the bench reuses them and only swaps the payload.
 */
function input(data: string): JobInput {
  return { data, priority: 0, delay: 0, ttl: 0, timeout: 0, maxAttempts: 1, backoff: 1000, uniqueKey: null, dependsOn: NO_IDS, tags: NO_TAGS, lifo: false };
}

interface Run {
  pushBatch: number;
  pullAckBatch: number;
  pushSingle: number;
  pullAckSingle: number;
  heapPerJob: number;
  buffersPerJob: number;
}

function once(data: string[]): Run {
  const now = Date.now();
  const batch: JobInput[] = [];
  for (let i = 0; i < BATCH; i++) batch.push(input(''));

  // push, batches of 1000 (only the push calls are timed), and the heap it leaves at N waiting
  gc!();
  const m0 = process.memoryUsage();
  let e = engine();
  let spent = 0;
  for (let i = 0; i < N; i += BATCH) {
    for (let k = 0; k < BATCH; k++) batch[k]!.data = data[i + k]!;
    const t0 = performance.now();
    e.push(QUEUE, batch, now);
    spent += performance.now() - t0;
  }
  const pushBatch = N / (spent / 1000);
  gc!();
  const m1 = process.memoryUsage();
  const heapPerJob = (m1.heapUsed - m0.heapUsed) / N;
  const buffersPerJob = (m1.arrayBuffers - m0.arrayBuffers) / N;

  // pull 1000 + ACKB of those ids, until empty
  let t = performance.now();
  let done = 0;
  const ids: number[] = [];
  for (;;) {
    const jobs = e.pull(QUEUE, BATCH, now + 1, 1);
    if (jobs.length === 0) break;
    ids.length = 0;
    for (const j of jobs) ids.push(j.id);
    done += e.ackBatch(ids, now + 2);
  }
  const pullAckBatch = done / ((performance.now() - t) / 1000);
  if (done !== N) throw new Error(`acked ${done} of ${N}`);

  // one job per call
  e = engine();
  gc!();
  const one = input('');
  t = performance.now();
  for (let i = 0; i < N; i++) {
    one.data = data[i]!;
    e.push(QUEUE, [one], now);
  }
  const pushSingle = N / ((performance.now() - t) / 1000);
  t = performance.now();
  done = 0;
  for (;;) {
    const jobs = e.pull(QUEUE, 1, now + 1, 1);
    if (jobs.length === 0) break;
    e.ack(jobs[0]!.id, null, now + 2);
    done++;
  }
  const pullAckSingle = done / ((performance.now() - t) / 1000);
  if (done !== N) throw new Error(`acked ${done} of ${N}`);
  return { pushBatch, pullAckBatch, pushSingle, pullAckSingle, heapPerJob, buffersPerJob };
}

function main(): void {
  if (CHILD) {
    process.stdout.write(JSON.stringify(once(payloads(N))));
    return;
  }
  const loadBefore = loadavg()[0]!;
  const runs: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(N), '1', '--run'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    runs.push(JSON.parse(out) as Run);
    const last = runs[runs.length - 1]!;
    console.error(`run ${r + 1}/${RUNS}: push ${fmt(last.pushBatch)}/s, pull+ack ${fmt(last.pullAckBatch)}/s, push1 ${fmt(last.pushSingle)}/s, pull+ack1 ${fmt(last.pullAckSingle)}/s, ${last.heapPerJob.toFixed(1)} B/job`);
  }
  const med = (k: keyof Run) => median(runs.map((r) => r[k]));
  const low = (k: keyof Run) => Math.min(...runs.map((r) => r[k]));
  const rate = (k: keyof Run): [string, string] => [`${fmt(med(k))} jobs/s`, fmt(low(k))];
  const rows: Array<[string, string, string, string]> = [
    ['PUSH, batches of 1000', ...rate('pushBatch'), '≥ 3,000,000'],
    ['PULL 1000 + ACKB, batches of 1000', ...rate('pullAckBatch'), '≥ 2,000,000'],
    ['PUSH, one job per call', ...rate('pushSingle'), ''],
    ['PULL 1 + ACK, one job per call', ...rate('pullAckSingle'), ''],
    [`heap per waiting job at ${fmt(N)} waiting`, `${med('heapPerJob').toFixed(1)} B`, `${Math.max(...runs.map((r) => r.heapPerJob)).toFixed(1)} (max)`, '≤ 200 B'],
    ['ArrayBuffer bytes per waiting job (off-heap)', `${med('buffersPerJob').toFixed(1)} B`, '', ''],
  ];
  const table = [
    '| measurement | median | worst run | target |',
    '|---|---|---|---|',
    ...rows.map(([a, b, c, d]) => `| ${a} | ${b} | ${c} | ${d} |`),
  ].join('\n');
  const body = [
    '## Engine (in-process)',
    '',
    `${machine()}. ${fmt(N)} jobs of ~100-byte payloads into one queue; median of ${RUNS} runs, each in a fresh process; no persistence, events off.`,
    'Payload strings and input objects are made before timing (a shard parses them); only engine calls are timed.',
    'Heap per job is `heapUsed` after − before pushing 1M (after a full GC), so payload strings are excluded.',
    `The machine is shared: 1-minute load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after the runs.`,
    '',
    `Command: \`${COMMAND}\``,
    '',
    table,
  ].join('\n');
  console.log(table);
  if (N === 1_000_000) writeSection('engine', body);
}

main();
