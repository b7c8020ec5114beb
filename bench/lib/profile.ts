/**
 * Summarises V8 .cpuprofile files (node --cpu-prof writes one per thread): self time per function,
 * so a shortfall can be pinned on named functions with their share of the thread's time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface Hot {
  name: string;
  where: string;
  ms: number;
  share: number;
}

/** Self time per function of one profile, heaviest first; idle and GC shown as V8 names them. */
export function hottest(file: string, top = 15): { totalMs: number; busyShare: number; hot: Hot[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const agg = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(dist|bench-dist)\//, '')}:${n.callFrame.lineNumber + 1}` : '';
    total += us;
    if (name === '(idle)') idle += us;
    const k = `${name}@${where}`;
    const a = agg.get(k) ?? { name, where, us: 0 };
    a.us += us;
    agg.set(k, a);
  }
  const hot = [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((a) => ({ name: a.name, where: a.where, ms: a.us / 1000, share: total ? a.us / total : 0 }));
  return { totalMs: total / 1000, busyShare: total ? 1 - idle / total : 0, hot };
}

/** A text report of every profile in a directory. */
export function summarise(dir: string, top = 15): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const out: string[] = [];
  for (const f of files) {
    const h = hottest(join(dir, f), top);
    out.push(`## ${f}: ${h.totalMs.toFixed(0)} ms sampled, busy ${(h.busyShare * 100).toFixed(0)}%`);
    for (const x of h.hot) out.push(`${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}  ${x.where}`);
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '')) && process.argv[2]) {
  // node dist/bench/lib/profile.js DIR [TOP]
  console.log(summarise(process.argv[2], Number(process.argv[3] ?? 15)));
}
