/**
 * In-thread vs sandboxed Worker on a CPU-bound handler (`node dist/bench/sandbox.js`):
 * throughput, and how responsive the worker process stays meanwhile (event-loop delay, and the
 * round trip of a STATS request sent every 20 ms on another connection, as a health check or a
 * producer in the same process would see it). Each configuration runs `--runs` times (default 3),
 * interleaved; medians are reported. Writes the `sandbox` section of BENCHMARKS.md unless --no-write.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FlashqClient, Worker } from '../src/client/index.js';
import { machine, writeSection } from '../native-bench/report.js';
import cpuWork from './lib/cpu-processor.js';
import { startFlashq } from './lib/server.js';
import { quantile, spread } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const runs = opt('runs', 3);
const jobs = opt('jobs', 200);
const iterations = opt('iterations', 500_000);
const write = !args.includes('--no-write');
const PROCESSOR = new URL('./lib/cpu-processor.js', import.meta.url);

interface WorkerLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the listeners' arguments differ per event
  on(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<void>;
}

interface Config {
  label: string;
  make(port: number, queue: string): WorkerLike;
}

const configs: Config[] = [
  { label: 'in-thread, concurrency 1', make: (port, q) => new Worker<{ iterations: number }>(q, (job) => cpuWork(job), { port, concurrency: 1, pullTimeoutMs: 50 }) },
  { label: 'in-thread, concurrency 4', make: (port, q) => new Worker<{ iterations: number }>(q, (job) => cpuWork(job), { port, concurrency: 4, pullTimeoutMs: 50 }) },
  { label: 'sandboxed, 1 thread', make: (port, q) => new Worker(q, PROCESSOR, { port, threads: 1, pullTimeoutMs: 50 }) },
  { label: 'sandboxed, 2 threads', make: (port, q) => new Worker(q, PROCESSOR, { port, threads: 2, pullTimeoutMs: 50 }) },
];

interface Sample {
  jobsPerSecond: number;
  /** event-loop delay, ms */
  loopP99: number;
  loopMax: number;
  /** STATS round trip while the worker runs, ms */
  rttP50: number;
  rttP99: number;
}

async function once(port: number, c: Config, run: number): Promise<Sample> {
  const queue = `sandbox-${run}-${c.label.replace(/\W+/g, '-')}`;
  const producer = new FlashqClient({ port });
  const probe = new FlashqClient({ port });
  await Promise.all([producer.connect(), probe.connect()]);
  await producer.pushBatch(queue, Array.from({ length: jobs }, () => ({ data: { iterations } })));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const rtts: number[] = [];
  let done = 0;
  let probing = true;
  const probes = (async () => {
    while (probing) {
      const s = performance.now();
      await probe.stats();
      rtts.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  loop.enable();
  const t0 = performance.now();
  const worker = c.make(port, queue);
  await new Promise<void>((resolve, reject) => {
    worker.on('completed', () => {
      if (++done === jobs) resolve();
    });
    worker.on('failed', (_j: unknown, e: Error) => reject(e));
  });
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  probing = false;
  await probes;
  await worker.close();
  const left = (await producer.listQueues()).find((q) => q.name === queue);
  if (left && (left.pending || left.processing || left.dlq)) throw new Error(`${queue}: jobs left over`);
  await Promise.all([producer.close(), probe.close()]);
  const sorted = Float64Array.from(rtts).sort();
  return {
    jobsPerSecond: jobs / seconds,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    rttP50: quantile(sorted, 0.5),
    rttP99: quantile(sorted, 0.99),
  };
}

async function main(): Promise<void> {
  const server = await startFlashq({ HTTP_PORT: '0', GRPC_PORT: '0' });
  const results = new Map<string, Sample[]>(configs.map((c) => [c.label, []]));
  // a warm-up so the first configuration does not pay for the server's JIT
  await once(server.port, configs[0]!, -1);
  try {
    for (let r = 0; r < runs; r++) {
      for (const c of configs) {
        const s = await once(server.port, c, r);
        results.get(c.label)!.push(s);
        process.stderr.write(`run ${r + 1}/${runs} ${c.label}: ${s.jobsPerSecond.toFixed(0)} jobs/s, loop p99 ${s.loopP99.toFixed(1)} ms, STATS p99 ${s.rttP99.toFixed(1)} ms\n`);
      }
    }
  } finally {
    await server.stop();
  }
  const med = (label: string, k: keyof Sample) => spread(results.get(label)!.map((s) => s[k])).median;
  const perJobMs = (1000 / med(configs[0]!.label, 'jobsPerSecond')).toFixed(1);
  const rows = configs.map(
    (c) =>
      `| ${c.label} | ${med(c.label, 'jobsPerSecond').toFixed(1)} | ${med(c.label, 'loopP99').toFixed(1)} | ${med(c.label, 'loopMax').toFixed(1)} | ${med(c.label, 'rttP50').toFixed(2)} | ${med(c.label, 'rttP99').toFixed(1)} |`,
  );
  const body = [
    '## Sandboxed processors vs in-thread handlers (CPU-bound)',
    '',
    `${machine()}. Command: \`node dist/bench/sandbox.js${args.length ? ' ' + args.join(' ') : ''}\` (build first). ${jobs} jobs per run, each ` +
      `${iterations.toLocaleString('en-US')} iterations of integer arithmetic (≈${perJobMs} ms of CPU in-thread); the server runs in its own process on the same machine. ` +
      `Medians of ${runs} interleaved runs. "loop" is the worker process's event-loop delay while the jobs ran; "STATS rtt" is the round trip of a ` +
      'STATS request another client in the same process sends every 20 ms (what a health check or a producer beside the worker waits). ' +
      `Load average at the end: ${loadavg()[0]!.toFixed(1)} (shared machine: absolute numbers are noisy, compare rows).`,
    '',
    '| worker | jobs/s | loop p99 ms | loop max ms | STATS rtt p50 ms | STATS rtt p99 ms |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(body + '\n');
  if (write) writeSection('sandbox', body);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
