import { writeFileSync } from 'node:fs';
import { hostname, cpus } from 'node:os';
import { runBullmq, MissingPeerError, type BullmqResult } from '../bench/bullmq.js';
import { runFlashq, type FlashqResult, type LoadOptions, type PhaseResult } from '../bench/flashq.js';
import { int, str, target } from '../args.js';
import { bold, printJson, Progress, rate, table } from '../output.js';
import { wantsJson, type Command } from './context.js';

const us = (v: number) => (Number.isFinite(v) ? (v >= 1000 ? `${(v / 1000).toFixed(v >= 100_000 ? 0 : 1)}ms` : `${Math.round(v)}µs`) : '-');

function row(name: string, p: PhaseResult): (string | number)[] {
  return [name, p.jobs, p.seconds.toFixed(2), rate(p.jobsPerSecond), us(p.p50), us(p.p99), us(p.p999)];
}

/** One progress bar per phase, replaced when the phase changes. */
function ticker(quiet: boolean, totals: Record<string, number>): (phase: string, n: number) => void {
  let current = '';
  let bar: Progress | null = null;
  return (phase, n) => {
    if (quiet) return;
    if (phase !== current) {
      bar?.finish();
      current = phase;
      bar = new Progress(phase.padEnd(16), totals[phase] ?? 0);
    }
    bar!.add(n);
  };
}

export const bench: Command = {
  summary: 'benchmark a flashQ-compatible server over TCP (optionally beside BullMQ)',
  usage:
    'bench [--jobs 100000] [--payload 100] [--batch 100] [--connections 2] [--in-flight 4] [--samples 1000]\n' +
    '      [--queue name] [--out results.json] [--redis redis://127.0.0.1:6379] [--timeout 300000]\n' +
    '  Pushes --jobs jobs as PUSHB batches, drains them with PULLB+ACKB, then times single PUSH and\n' +
    '  PULL+ACK round trips; fails unless every job is delivered exactly once. Latencies are per request.\n' +
    '  Across a cluster: --nodes host:port,… spreads the connections over the nodes.',
  async run(args) {
    const t = target(args);
    const o: LoadOptions = {
      jobs: int(args, 'jobs', 100_000, 1),
      payload: int(args, 'payload', 100, 10, 1_000_000),
      batch: int(args, 'batch', 100, 1, 1000),
      connections: int(args, 'connections', 2, 1, 256),
      inFlight: int(args, 'in-flight', 4, 1, 1000),
      samples: int(args, 'samples', 1000, 1),
      queue: str(args, 'queue') ?? `bench-${process.pid}-${Date.now().toString(36)}`,
      timeoutMs: int(args, 'timeout', 300_000, 1000),
    };
    const redis = str(args, 'redis');
    const out = str(args, 'out');
    const json = wantsJson(args);
    const totals = { push: o.jobs, 'pull+ack': o.jobs, 'push 1×1': o.samples, 'pull+ack 1×1': o.samples, 'BullMQ push': o.jobs, 'BullMQ process': o.jobs, 'BullMQ add 1×1': o.samples };
    const tick = ticker(json, totals);
    const flashq: FlashqResult = await runFlashq(t, o, tick);
    let bullmq: BullmqResult | null = null;
    let bullmqSkipped: string | null = null;
    if (redis) {
      try {
        bullmq = await runBullmq(redis, o, tick);
      } catch (e) {
        if (!(e instanceof MissingPeerError)) throw e;
        bullmqSkipped = e.message;
      }
    }
    tick('', 0);
    const report = {
      server: t.path ?? (t.nodes ? t.nodes.map((n) => `${n.host}:${n.port}`).join(',') : `${t.host}:${t.port}`),
      tls: Boolean(t.tls),
      options: o,
      machine: { host: hostname(), cpus: cpus().length, node: process.version },
      at: new Date().toISOString(),
      flashq,
      ...(redis ? { bullmq, bullmqSkipped } : {}),
    };
    if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    if (json) {
      printJson(report);
      return 0;
    }
    const header = ['phase', 'jobs', 'seconds', 'jobs/s', 'p50', 'p99', 'p99.9'];
    process.stdout.write(
      `${bold(`flashQ at ${report.server}`)}: ${o.jobs} jobs of ${o.payload} B, batch ${o.batch}, ${o.connections} connection(s) × ${o.inFlight} in flight\n` +
        table(header, [
          row(`push (PUSHB ×${o.batch})`, flashq.push),
          row(`pull+ack (PULLB+ACKB ×${o.batch})`, flashq.pullAck),
          row('push, one at a time', flashq.pushLatency),
          row('pull+ack, one at a time', flashq.pullAckLatency),
        ]) +
        `every job delivered exactly once: yes\n`,
    );
    if (bullmq) {
      process.stdout.write(
        `\n${bold(`BullMQ ${bullmq.version} at ${redis}`)}\n` +
          table(header, [row(`push (addBulk ×${o.batch})`, bullmq.push), row(`process (Worker, concurrency ${o.batch})`, bullmq.process), row('add, one at a time', bullmq.pushLatency)]) +
          '\n' +
          table(
            ['metric', 'flashQ', 'BullMQ', 'ratio'],
            [
              ['push jobs/s', rate(flashq.push.jobsPerSecond), rate(bullmq.push.jobsPerSecond), `${(flashq.push.jobsPerSecond / bullmq.push.jobsPerSecond).toFixed(1)}×`],
              ['process jobs/s', rate(flashq.pullAck.jobsPerSecond), rate(bullmq.process.jobsPerSecond), `${(flashq.pullAck.jobsPerSecond / bullmq.process.jobsPerSecond).toFixed(1)}×`],
              ['single push p50', us(flashq.pushLatency.p50), us(bullmq.pushLatency.p50), `${(flashq.pushLatency.p50 / bullmq.pushLatency.p50).toFixed(2)}×`],
              ['single push p99', us(flashq.pushLatency.p99), us(bullmq.pushLatency.p99), `${(flashq.pushLatency.p99 / bullmq.pushLatency.p99).toFixed(2)}×`],
            ],
          ),
      );
    } else if (bullmqSkipped) {
      process.stdout.write(`\nBullMQ comparison skipped: ${bullmqSkipped}\n`);
    }
    if (out) process.stdout.write(`results written to ${out}\n`);
    return 0;
  },
};
