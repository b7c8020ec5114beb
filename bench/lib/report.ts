/**
 * Turns the metrics of repeated runs into BENCHMARKS.md tables: one per scenario (median, min–max,
 * target pass/fail) and one comparing systems step by step with their ratio.
 */
import type { Metric, PeerTarget, Scenario, Step, Target } from './scenario.js';
import { short, spread } from './stats.js';

export interface StepRecord {
  scenario: Scenario;
  step: Step;
  /** metrics of each successful run, in run order (null for a failed run) */
  runs: (Metric[] | null)[];
  errors: string[];
}

export function values(rec: StepRecord, key: string): number[] {
  return rec.runs.flatMap((r) => r?.filter((m) => m.key === key).map((m) => m.value) ?? []);
}

function metricKeys(rec: StepRecord): Metric[] {
  const seen = new Map<string, Metric>();
  for (const r of rec.runs) for (const m of r ?? []) if (!seen.has(m.key)) seen.set(m.key, m);
  return [...seen.values()];
}

const NAMES: Record<string, string> = { throughput: 'rate', p50: 'p50', p99: 'p99', p999: 'p99.9', bytesPerJob: 'memory', rssPerJob: 'RSS' };

function fmtValue(v: number, unit: string): string {
  return `${short(v)} ${unit}`;
}

export function passes(value: number, op: '>=' | '<=', goal: number): boolean {
  return op === '>=' ? value >= goal : value <= goal;
}

function targetCell(t: Target | undefined, median: number, unit: string): string {
  if (!t) return '';
  const ok = passes(median, t.op, t.value);
  return `${t.op === '>=' ? '≥' : '≤'} ${short(t.value)} ${unit}: **${ok ? 'pass' : 'FAIL'}**`;
}

/** The table of one scenario. */
export function scenarioTable(records: StepRecord[]): string {
  const rows = ['| step | metric | median | min–max | runs | target |', '|---|---|---:|---:|---:|---|'];
  for (const rec of records) {
    const keys = metricKeys(rec);
    if (keys.length === 0) {
      rows.push(`| ${rec.step.label} | – | – | – | 0/${rec.runs.length} | **FAIL**: ${escape(rec.errors[0] ?? 'no result')} |`);
      continue;
    }
    keys.forEach((m, i) => {
      const s = spread(values(rec, m.key));
      const target = rec.step.targets?.find((t) => t.metric === m.key);
      const failed = rec.errors.length ? ` **${rec.errors.length} failed run(s)**: ${escape(rec.errors[0]!)}` : '';
      rows.push(
        `| ${i === 0 ? rec.step.label : ''} | ${NAMES[m.key] ?? m.key} | ${fmtValue(s.median, m.unit)} | ${short(s.min)}–${short(s.max)} | ${s.n} | ${targetCell(target, s.median, m.unit)}${i === 0 ? failed : ''} |`,
      );
    });
  }
  return rows.join('\n');
}

function escape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300);
}

export interface Pair {
  compare: string;
  ours: StepRecord;
  theirs: StepRecord;
  metric: Metric;
  oursMedian: number;
  theirsMedian: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  target?: PeerTarget;
}

/** Every (flashQ step, peer step) sharing a compare key, per common metric. */
export function pairs(records: StepRecord[], ours = 'flashQ'): Pair[] {
  const out: Pair[] = [];
  for (const a of records) {
    if (a.scenario.system !== ours || !a.step.compare) continue;
    for (const b of records) {
      if (b.scenario.system === ours || b.step.compare !== a.step.compare) continue;
      for (const m of metricKeys(a)) {
        const va = values(a, m.key);
        const vb = values(b, m.key);
        if (va.length === 0 || vb.length === 0) continue;
        // ratio per run index: the two were measured in the same repetition, minutes apart
        const per: number[] = [];
        for (let i = 0; i < Math.min(a.runs.length, b.runs.length); i++) {
          const x = a.runs[i]?.find((q) => q.key === m.key)?.value;
          const y = b.runs[i]?.find((q) => q.key === m.key)?.value;
          if (x !== undefined && y) per.push(x / y);
        }
        const oursMedian = spread(va).median;
        const theirsMedian = spread(vb).median;
        const r = spread(per);
        out.push({ compare: a.step.compare, ours: a, theirs: b, metric: m, oursMedian, theirsMedian, ratio: oursMedian / theirsMedian, ratioMin: r.min, ratioMax: r.max, target: a.step.peerTargets?.find((t) => t.metric === m.key) });
      }
    }
  }
  return out;
}

function ratioText(p: Pair): string {
  const r = p.ratio;
  if (p.metric.better === 'higher') return `**${r.toFixed(r >= 10 ? 0 : 1)}×** (${p.ratioMin.toFixed(1)}–${p.ratioMax.toFixed(1)})`;
  return `**${r.toFixed(2)}** (1/${(1 / r).toFixed(1)}; ${p.ratioMin.toFixed(2)}–${p.ratioMax.toFixed(2)})`;
}

export function peerTable(ps: Pair[], peer: string): string {
  const rows = [`| flashQ step | ${peer} step | metric | flashQ | ${peer} | flashQ / ${peer} (min–max of per-run ratios) | target |`, '|---|---|---|---:|---:|---:|---|'];
  for (const p of ps) {
    const t = p.target;
    const goal = t ? `${t.op === '>=' ? '≥' : '≤'} ${t.ratio}${p.metric.better === 'higher' ? '×' : ''}: **${passes(p.ratio, t.op, t.ratio) ? 'pass' : 'FAIL'}**` : '';
    rows.push(`| ${p.ours.step.label} | ${p.theirs.step.label} | ${NAMES[p.metric.key] ?? p.metric.key} | ${fmtValue(p.oursMedian, p.metric.unit)} | ${fmtValue(p.theirsMedian, p.metric.unit)} | ${ratioText(p)} | ${goal} |`);
  }
  return rows.join('\n');
}
