/**
 * Terminal output: tables sized to their content, ANSI emphasis and a progress bar, both only when
 * the stream is a terminal (and NO_COLOR is unset), so pipes and scripts get plain text.
 */

export interface Out {
  write(s: string): void;
  readonly isTTY: boolean;
  readonly columns?: number;
}

const color = (stream: Out) => stream.isTTY && !process.env.NO_COLOR;
export const bold = (s: string, on = color(process.stdout)) => (on ? `\x1b[1m${s}\x1b[22m` : s);
export const dim = (s: string, on = color(process.stdout)) => (on ? `\x1b[2m${s}\x1b[22m` : s);
export const paint = (s: string, code: number, on = color(process.stdout)) => (on ? `\x1b[${code}m${s}\x1b[39m` : s);

/** Rows of cells under a header; numeric columns are right-aligned. */
export function table(header: string[], rows: (string | number | null | undefined)[][], out: Out = process.stdout): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const numeric = header.map((_, i) => cells.length > 0 && cells.every((r) => /^-?[0-9.,]+[kM%]?$|^-$/.test(r[i] ?? '')));
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : i === r.length - 1 ? c : c.padEnd(width[i]!))).join('  ').trimEnd();
  const head = line(header);
  const text = [bold(head, color(out)), ...cells.map(line)].join('\n') + '\n';
  return cells.length === 0 ? text + dim('(none)', color(out)) + '\n' : text;
}

/** key: value lines, keys aligned. */
export function pairs(entries: [string, unknown][]): string {
  const w = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${bold(k.padEnd(w))}  ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n') + '\n';
}

export function ago(ms: number, now = Date.now()): string {
  if (!ms) return '-';
  const d = now - ms;
  const a = Math.abs(d);
  const s = a < 1000 ? `${a}ms` : a < 60_000 ? `${(a / 1000).toFixed(1)}s` : a < 3_600_000 ? `${Math.round(a / 60_000)}m` : `${Math.round(a / 3_600_000)}h`;
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

/** A one-line progress bar on a terminal (stderr by default); nothing at all elsewhere. */
export class Progress {
  private readonly started = Date.now();
  private last = 0;
  private done = 0;
  private readonly on: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: Out = process.stderr,
  ) {
    this.on = out.isTTY && total > 0;
  }

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    // repainting more than ~12 times a second only costs time
    if (this.on && (now - this.last > 80 || this.done >= this.total)) {
      this.last = now;
      this.paint();
    }
  }

  finish(): void {
    if (!this.on) return;
    this.paint();
    this.out.write('\n');
  }

  private paint(): void {
    const frac = Math.min(1, this.done / this.total);
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const tail = ` ${String(Math.floor(frac * 100)).padStart(3)}% ${this.done}/${this.total} ${rate(this.done / secs)}/s`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - tail.length - 4));
    const full = Math.round(frac * width);
    this.out.write(`\r\x1b[2K${this.label} [${'█'.repeat(full)}${'░'.repeat(width - full)}]${tail}`);
  }
}

export function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}
