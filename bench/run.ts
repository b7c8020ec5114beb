/**
 * `make bench` / `make bench-quick`: runs every scenario module of bench/ (the flashQ TCP steps,
 * memory, shard counts, BullMQ as the peer, and HTTP/gRPC/durable when those modules exist),
 * repeats each step (3 runs, 1 with --quick), checks exact delivery in every run, and writes
 * BENCHMARKS.md sections and docs/bench-chart.svg.
 *
 * Flags: --quick, --runs=N, --clients=N (load threads), --only=tcp,bullmq (scenario ids),
 * --steps=a,b (substrings of scenario/step; `x$` = exactly step x), --no-write (print only), --profile (node --cpu-prof on the shared
 * server; the summary is printed and the profiles kept in bench/results/profiles/).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, writeSection } from '../native-bench/report.js';
import { comparisonChart } from './lib/chart.js';
import { DeliveryError } from './lib/delivery.js';
import { summarise } from './lib/profile.js';
import { pairs, peerTable, scenarioTable, type StepRecord } from './lib/report.js';
import type { Scenario, StepContext } from './lib/scenario.js';
import { startFlashq, type FlashqServer, type ServerEnv } from './lib/server.js';
import { short } from './lib/stats.js';

/** Scenario modules, in run order; missing ones (written by others later) are skipped. */
const MODULES = ['tcp', 'memory', 'shards', 'http', 'grpc', 'durable', 'bullmq'];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const runs = Number(opt('runs') ?? (quick ? 1 : 3));
// on 2 cores the server needs both: one light load thread; bigger machines get more load threads
const clients = Number(opt('clients') ?? Math.max(1, Math.min(8, Math.floor(availableParallelism() / 4))));
const only = opt('only')?.split(',');
const stepFilter = opt('steps');
const write = !flag('no-write');
const profileDir = flag('profile') ? join('bench', 'results', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : null;
const command = `node dist/bench/run.js${args.length ? ' ' + args.join(' ') : ''}` + (quick && args.length === 1 ? ' (make bench-quick)' : args.length === 0 ? ' (make bench)' : '');

const log = (line: string) => process.stderr.write(line + '\n');

async function loadScenarios(): Promise<Scenario[]> {
  const out: Scenario[] = [];
  for (const name of MODULES) {
    if (only && !only.includes(name)) continue;
    const url = new URL(`./${name}.js`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) continue;
    const mod = (await import(url.href)) as { scenarios?: Scenario[]; default?: Scenario | Scenario[] };
    const found = mod.scenarios ?? (Array.isArray(mod.default) ? mod.default : mod.default ? [mod.default] : []);
    out.push(...found);
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timed out after ${Math.round(ms / 1000)} s`)), ms)))]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  const started = Date.now();
  const scenarios = await loadScenarios();
  let shared: Promise<FlashqServer> | null = null;
  // TCP only: the HTTP and gRPC scenarios start their own servers with every listener on
  const flashq = () => (shared ??= startFlashq({ HTTP_PORT: '0', GRPC_PORT: '0' }, profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}));
  const privateServers = new Set<FlashqServer>();
  const ready: Scenario[] = [];
  const skipped: string[] = [];
  for (const s of scenarios) {
    const why = s.available ? await s.available() : null;
    if (why) {
      skipped.push(`${s.title}: ${why}`);
      log(`skip ${s.id}: ${why}`);
      continue;
    }
    try {
      await s.setup?.({ quick });
      ready.push(s);
    } catch (e) {
      skipped.push(`${s.title}: setup failed: ${(e as Error).message}`);
      log(`skip ${s.id}: setup failed: ${(e as Error).message}`);
    }
  }
  const records: StepRecord[] = [];
  for (const s of ready) {
    for (const step of s.steps({ quick })) {
      // --steps=a,b: substrings of "scenario/step"; an entry ending in $ must match the step id exactly
      const full = `${s.id}/${step.id}`;
      if (stepFilter && !stepFilter.split(',').some((f) => (f.endsWith('$') ? step.id === f.slice(0, -1) || full === f.slice(0, -1) : full.includes(f)))) continue;
      records.push({ scenario: s, step, runs: [], errors: [] });
    }
  }
  log(`flashQ bench: ${records.length} steps × ${runs} run(s), ${clients} load thread(s), ${machine()}`);
  let failures = 0;
  try {
    for (let run = 0; run < runs; run++) {
      for (const rec of records) {
        const timeoutMs = rec.step.timeoutMs ?? (quick ? 60_000 : 120_000);
        const ctx: StepContext = {
          quick,
          run,
          clients,
          flashq,
          startFlashq: async (env?: ServerEnv) => {
            const srv = await startFlashq(env ?? {});
            privateServers.add(srv);
            const stop = srv.stop.bind(srv);
            srv.stop = async () => {
              privateServers.delete(srv);
              await stop();
            };
            return srv;
          },
          progress: (m) => log(`    … ${m}`),
          deadline: Date.now() + timeoutMs,
        };
        const name = `[${run + 1}/${runs}] ${rec.scenario.id} · ${rec.step.label}`;
        const t0 = Date.now();
        try {
          const metrics = await withTimeout(rec.step.run(ctx), timeoutMs + 5000, rec.step.label);
          rec.runs.push(metrics);
          const shown = metrics.filter((m) => m.key !== 'p999').map((m) => `${m.key === 'throughput' ? '' : m.key + ' '}${short(m.value)} ${m.unit}`);
          log(`${name}: ${shown.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (e) {
          const err = e as Error;
          failures++;
          rec.runs.push(null);
          rec.errors.push(`${err instanceof DeliveryError || /exact delivery/.test(err.message) ? 'delivery: ' : ''}${err.message}`);
          log(`${name}: FAILED: ${err.message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    for (const s of ready) await s.teardown?.().catch((e: Error) => log(`teardown ${s.id}: ${e.message}`));
    for (const srv of privateServers) await srv.stop().catch(() => {});
    if (shared) await (await (shared as Promise<FlashqServer>).catch(() => null))?.stop();
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const header = (extra = '') =>
    `Machine: ${machine()}. Command: \`${command}\` (${runs === 1 ? '1 run' : `median of ${runs} runs, min–max beside it`}; whole suite ${minutes} min)${extra}.`;
  const sections: [string, string][] = [];
  const systems = new Set(records.map((r) => r.scenario.system));
  for (const s of ready) {
    const recs = records.filter((r) => r.scenario === s);
    if (recs.length === 0) continue;
    sections.push([s.section ?? `bench-${s.id}`, `## ${s.title}\n\n${header()}\n\n${s.notes ?? ''}\n\n${scenarioTable(recs)}`]);
  }
  const ps = pairs(records);
  const peer = [...systems].find((x) => x !== 'flashQ');
  if (peer && ps.length > 0) {
    const chart = comparisonChart(ps, peer, `${machine()}; ${command}`);
    if (write) {
      mkdirSync('docs', { recursive: true });
      writeFileSync(join('docs', 'bench-chart.svg'), chart);
    }
    const body =
      `## flashQ-TS vs ${peer}, side by side\n\n${header()}\n\nRatios are flashQ / ${peer} of the medians; in brackets the range of the ratios of runs measured in the same repetition. ` +
      `For rates higher is better, for latency and memory lower is better.\n\n${peerTable(ps, peer)}\n\n![throughput and latency, flashQ-TS vs ${peer}](docs/bench-chart.svg)`;
    sections.push(['bench-peer', body]);
  }
  if (skipped.length) sections.push(['bench-skipped', `## Benchmarks not run\n\n${header()}\n\n${skipped.map((s) => `- ${s}`).join('\n')}`]);
  for (const [name, body] of sections) {
    if (write) writeSection(name, body, 'BENCHMARKS.md');
    process.stdout.write(`\n${body}\n`);
  }
  if (!write) log('(--no-write: BENCHMARKS.md left as it was)');
  if (profileDir && existsSync(profileDir)) {
    const text = summarise(profileDir, 25);
    writeFileSync(join(profileDir, 'summary.txt'), text);
    process.stdout.write(`\n# CPU profile of the shared server (${profileDir})\n${text}\n`);
  }
  log(`done in ${minutes} min, ${failures} failed run(s)`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`bench failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
