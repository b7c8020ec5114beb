/** Numbers and times as an operator reads them at a glance: 1.2M, 340k/s, 45 ms, 3 min ago. */

const UNITS = ['', 'k', 'M', 'B', 'T'];

/** 999 → "999", 1234 → "1.2k", 340_123 → "340k", 1_234_567 → "1.2M" (three significant digits at most). */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1000) return sign + (Number.isInteger(v) ? String(v) : trim(v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)));
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  let text = v < 10 ? trim(v.toFixed(1)) : v < 100 ? trim(v.toFixed(1)) : v.toFixed(0);
  // 999_950 rounds to "1000k": say "1M"
  if (Number(text) >= 1000 && u < UNITS.length - 1) {
    u++;
    text = '1';
  }
  return sign + text + UNITS[u];
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Per-second rate: "340k/s", "1.5/s". */
export function rate(n: number): string {
  return compact(n) + '/s';
}

/** Exact integer with thousands separators (for titles and tooltips). */
export function exact(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

/** A duration in ms: "850 µs", "45 ms", "1.2 s", "3.4 min", "2.1 h". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0';
  if (ms < 1) return Math.round(ms * 1000) + ' µs';
  if (ms < 1000) return trim(ms < 10 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';
  const s = ms / 1000;
  if (s < 60) return trim(s.toFixed(1)) + ' s';
  if (s < 3600) return trim((s / 60).toFixed(1)) + ' min';
  if (s < 86400) return trim((s / 3600).toFixed(1)) + ' h';
  return trim((s / 86400).toFixed(1)) + ' d';
}

/** "3 s ago" / "in 5 min" relative to `now`; 0 or absent times are "–". */
export function relative(t: number | null | undefined, now: number): string {
  if (!t) return '–';
  const d = t - now;
  if (Math.abs(d) < 1000) return 'now';
  return d < 0 ? duration(-d) + ' ago' : 'in ' + duration(d);
}

/** ISO time in UTC without milliseconds noise: "2026-12-04 15:39:51Z". */
export function isoTime(t: number | null | undefined): string {
  if (!t) return '–';
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
