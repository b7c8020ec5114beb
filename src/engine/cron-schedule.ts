import { CronExpressionParser } from 'cron-parser';
import { errors } from '../base/errors.js';

/** compat.md: schedules longer than this are refused. */
export const MAX_SCHEDULE_LENGTH = 256;

/** The reference server's interval shorthand: exactly `*\/N` (one field), every N seconds. */
const INTERVAL = /^\*\/([0-9]+)$/;
/** Longest interval: about 136 years, so `now + interval` stays an exact epoch ms. */
export const MAX_INTERVAL_S = 0xffff_ffff;

/**
 * Next fire time strictly after `now` (epoch ms), in UTC. A schedule that is exactly `*\/N` (one
 * field, N a positive integer) is an interval of N seconds counted from `now` (compat.md "Cron").
 * Otherwise the schedule has 6 fields
 * (`sec min hour day-of-month month day-of-week`, Sunday 0) or 5 (seconds 0); steps, ranges and
 * lists are accepted, as are the parser's extras (names, `L`, `#`, `H` seeded by `seed` so a
 * cron's jitter is the same on every node and after a restart). Throws `Invalid cron expression`.
 */
export function nextRunAfter(schedule: string, now: number, seed = ''): number {
  if (typeof schedule !== 'string') throw errors.invalidCron('schedule must be a string');
  if (schedule.length > MAX_SCHEDULE_LENGTH) {
    throw errors.invalidCron(`longer than ${MAX_SCHEDULE_LENGTH} characters`);
  }
  const trimmed = schedule.trim();
  const interval = INTERVAL.exec(trimmed);
  if (interval !== null) return now + intervalSeconds(interval[1]!) * 1000;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    // also refuses the parser's @-macros and the empty string it would read as "every minute"
    throw errors.invalidCron(`expected 5 or 6 fields, got ${fields[0] === '' ? 0 : fields.length}`);
  }
  let next: number;
  try {
    const it = CronExpressionParser.parse(fields.join(' '), { currentDate: new Date(now), tz: 'UTC', hashSeed: seed });
    next = it.next().getTime();
  } catch (e) {
    throw errors.invalidCron(e instanceof Error ? e.message : String(e));
  }
  // the parser works in whole seconds from the second after `now`; keep "strictly after" exact
  if (!(next > now)) throw errors.invalidCron('no future run');
  return next;
}

function intervalSeconds(digits: string): number {
  const n = Number(digits);
  if (n < 1) throw errors.invalidCron(`interval */${digits} must be at least 1 second`);
  if (n > MAX_INTERVAL_S) throw errors.invalidCron(`interval */${digits} is longer than ${MAX_INTERVAL_S} seconds`);
  return n;
}

export function validateSchedule(schedule: string, now: number, seed = ''): void {
  nextRunAfter(schedule, now, seed);
}
