/**
 * Next runs of a cron schedule, for the page's preview before a cron is created. The server stays
 * the authority (it validates on create); this reads the common forms the same way: 6 fields
 * `sec min hour day-of-month month day-of-week` or 5 (seconds 0), `*`, `?`, values, ranges,
 * steps, lists, month and day names, Sunday 0 or 7, UTC, and the one-field `*\/N` interval
 * shorthand (every N seconds, first run N s after creation). When both day fields are restricted,
 * a day matching either runs.
 */

export class CronSyntaxError extends Error {}
/** A form the server may accept (L, W, #, H) that this preview does not compute. */
export class CronUnsupportedError extends Error {}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

export interface Schedule {
  /** the next `count` run times strictly after `after` (epoch ms) */
  next(after: number, count: number): number[];
}

function value(raw: string, f: Field): number {
  if (f.names) {
    const i = f.names.indexOf(raw.toUpperCase());
    if (i >= 0) return f === FIELDS[4] ? i + 1 : i;
  }
  if (!/^\d+$/.test(raw)) {
    if (/[LW#H]/i.test(raw)) throw new CronUnsupportedError(`"${raw}" in the ${f.name} field`);
    throw new CronSyntaxError(`"${raw}" is not a valid ${f.name}`);
  }
  const n = Number(raw);
  if (n < f.min || n > f.max) throw new CronSyntaxError(`${f.name} ${n} is out of range ${f.min}-${f.max}`);
  return n;
}

/** The set of allowed values of one field, and whether it was restricted (not `*`/`?`). */
function field(text: string, f: Field): { set: boolean[]; any: boolean } {
  const set = new Array<boolean>(f.max + 1).fill(false);
  let any = false;
  for (const part of text.split(',')) {
    if (part === '') throw new CronSyntaxError(`empty list item in the ${f.name} field`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(`"${part}" has two steps`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronSyntaxError(`bad step "${stepText}" in the ${f.name} field`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      if (range === '?' && f !== FIELDS[3] && f !== FIELDS[5]) throw new CronSyntaxError(`"?" is only for the day fields`);
      lo = f.min;
      hi = f === FIELDS[5] ? 6 : f.max;
      if (stepText === undefined) any = true;
    } else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      lo = value(a!, f);
      hi = value(b!, f);
      if (lo > hi) throw new CronSyntaxError(`range ${range} runs backwards in the ${f.name} field`);
    } else {
      lo = value(range!, f);
      hi = stepText === undefined ? lo : f === FIELDS[5] ? 6 : f.max;
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  if (f === FIELDS[5] && set[7]) set[0] = true;
  return { set, any };
}

export function parseSchedule(expr: string): Schedule {
  const text = expr.trim();
  if (text.length === 0) throw new CronSyntaxError('the schedule is empty');
  if (text.length > 256) throw new CronSyntaxError('longer than 256 characters');
  const interval = /^\*\/(\d+)$/.exec(text);
  if (interval) {
    const n = Number(interval[1]);
    if (n === 0) throw new CronSyntaxError('an interval of 0 seconds');
    return { next: (after, count) => Array.from({ length: count }, (_, i) => after + (i + 1) * n * 1000) };
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new CronSyntaxError(`expected 5 or 6 fields, got ${parts.length}`);
  if (parts.length === 5) parts.unshift('0');
  const [sec, min, hour, dom, month, dow] = parts.map((p, i) => field(p, FIELDS[i]!));
  const dayMatches = (d: Date): boolean => {
    const byDom = dom!.set[d.getUTCDate()]!;
    const byDow = dow!.set[d.getUTCDay()]!;
    if (dom!.any) return byDow;
    if (dow!.any) return byDom;
    return byDom || byDow;
  };
  return {
    next(after, count) {
      const out: number[] = [];
      // whole seconds strictly after `after`
      let t = Math.floor(after / 1000) * 1000 + 1000;
      // leap-day schedules run every 4 years: look far enough ahead for a few of their runs
      const limit = after + 30 * 366 * 86_400_000;
      while (out.length < count && t <= limit) {
        const d = new Date(t);
        if (!month!.set[d.getUTCMonth() + 1]) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        } else if (!dayMatches(d)) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        } else if (!hour!.set[d.getUTCHours()]) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
        } else if (!min!.set[d.getUTCMinutes()]) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
        } else if (!sec!.set[d.getUTCSeconds()]) {
          t += 1000;
        } else {
          out.push(t);
          t += 1000;
        }
      }
      return out;
    },
  };
}
