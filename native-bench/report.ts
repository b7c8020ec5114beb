import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';

/** Machine line every benchmark section starts with. */
export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/**
 * Replace the section between `<!-- name:start -->` and `<!-- name:end -->` in BENCHMARKS.md
 * (appending it when missing), so each benchmark owns its part of the file.
 */
export function writeSection(name: string, body: string, file = 'BENCHMARKS.md'): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** ns per call of fn over one round of `roundMs`. */
function round(fn: () => unknown, roundMs: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < roundMs) {
    for (let k = 0; k < 8; k++) fn();
    n += 8;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / n;
}

/**
 * Median ns per call of each function. Rounds are interleaved across the functions, so on a
 * shared machine every contender sees the same spells of contention.
 */
export function measureAll(fns: Array<() => unknown>, rounds: number, roundMs: number): number[] {
  for (const fn of fns) {
    const warmEnd = performance.now() + roundMs / 2;
    while (performance.now() < warmEnd) fn();
  }
  const samples = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) fns.forEach((fn, i) => samples[i]!.push(round(fn, roundMs)));
  return samples.map(median);
}
