/**
 * A small SVG of the comparison: grouped horizontal bars on a log scale, one panel for rates and
 * one for latencies and memory, flashQ beside the peer. Written by hand so the chart needs nothing
 * but this file and renders on GitHub.
 */
import type { Pair } from './report.js';
import { short } from './stats.js';

interface Bar {
  label: string;
  unit: string;
  ours: number;
  theirs: number;
}

const W = 760;
const LABEL_W = 250;
const BAR_H = 14;
const GROUP_H = 42;
const COLORS = { ours: '#2563eb', theirs: '#f97316' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(title: string, bars: Bar[], y0: number): { svg: string; height: number } {
  if (bars.length === 0) return { svg: '', height: 0 };
  const all = bars.flatMap((b) => [b.ours, b.theirs]).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))));
  const plotW = W - LABEL_W - 90;
  const x = (v: number) => LABEL_W + (plotW * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
  const parts: string[] = [`<text x="10" y="${y0 + 16}" font-weight="bold">${esc(title)}</text>`];
  const top = y0 + 28;
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${x(d)}" y1="${top}" x2="${x(d)}" y2="${top + bars.length * GROUP_H}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(d)}" y="${top + bars.length * GROUP_H + 12}" font-size="10" text-anchor="middle" fill="#666">${short(d)}</text>`);
  }
  bars.forEach((b, i) => {
    const gy = top + i * GROUP_H;
    parts.push(`<text x="${LABEL_W - 8}" y="${gy + BAR_H + 4}" text-anchor="end" font-size="12">${esc(b.label)}</text>`);
    for (const [k, v, dy] of [['ours', b.ours, 2], ['theirs', b.theirs, 2 + BAR_H + 2]] as const) {
      parts.push(`<rect x="${LABEL_W}" y="${gy + dy}" width="${Math.max(1, x(v) - LABEL_W)}" height="${BAR_H}" fill="${COLORS[k]}"/>`);
      parts.push(`<text x="${x(v) + 4}" y="${gy + dy + 11}" font-size="10">${esc(`${short(v)} ${b.unit}`)}</text>`);
    }
  });
  return { svg: parts.join('\n'), height: 28 + bars.length * GROUP_H + 24 };
}

export function comparisonChart(pairs: Pair[], peer: string, subtitle: string): string {
  const bar = (p: Pair, label: string): Bar => ({ label, unit: p.metric.unit, ours: p.oursMedian, theirs: p.theirsMedian });
  const rates = pairs.filter((p) => p.metric.key === 'throughput' && p.ours.step.compare !== 'add-seq' && p.ours.step.compare !== 'e2e').map((p) => bar(p, p.ours.step.label));
  const lows = pairs
    .filter((p) => p.metric.key === 'p50' || p.metric.key === 'p99' || p.metric.key === 'bytesPerJob')
    .map((p) => bar(p, `${p.ours.step.label.replace(/ \(100 B\).*/, '')} ${p.metric.key === 'bytesPerJob' ? '' : p.metric.key}`.trim()));
  const a = panel('Throughput (jobs/s, log scale, higher is better)', rates, 40);
  const b = panel('Latency (µs) and memory (B/job), log scale, lower is better', lows, 40 + a.height + 10);
  const h = 40 + a.height + 10 + b.height + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">flashQ-TS vs ${esc(peer)}</text>`,
    `<text x="10" y="33" font-size="10" fill="#555">${esc(subtitle)}</text>`,
    `<rect x="${W - 170}" y="8" width="12" height="12" fill="${COLORS.ours}"/><text x="${W - 154}" y="18">flashQ-TS</text>`,
    `<rect x="${W - 90}" y="8" width="12" height="12" fill="${COLORS.theirs}"/><text x="${W - 74}" y="18">${esc(peer)}</text>`,
    a.svg,
    b.svg,
    '</svg>',
    '',
  ].join('\n');
}
