import { TIMED_OUT, type EngineState } from './state.js';
import { nextRunAfter } from './cron-schedule.js';
import { type Cron, view as cronView } from './cron-table.js';
import { ACTIVE } from './job.js';
import { insertJob } from './push.js';
import { defaultJobInput } from './job-defaults.js';

/** Apply everything due at `now`, in an order where earlier causes come first. */
export function tick(c: EngineState, now: number): void {
  for (let job = c.expiries.popDue(now); job !== undefined; job = c.expiries.popDue(now)) {
    // a running job is judged by its timeout; its ttl is checked again if it comes back
    if (job.st !== ACTIVE) c.expire(job, now);
  }
  promoteDue(c, now);
  for (let job = c.timeouts.popDue(now); job !== undefined; job = c.timeouts.popDue(now)) {
    c.failAttempt(job, TIMED_OUT, now, true);
    promoteDue(c, now); // a zero back-off retry is ready at once
  }
  for (let cron = c.crons.popDue(now); cron !== undefined; cron = c.crons.popDue(now)) fire(c, cron, now);
  if (c.rateWaiters.size > 0) {
    for (const q of c.rateWaiters) {
      if (q.rate === null || q.rate.available(now) >= 1) {
        c.rateWaiters.delete(q);
        c.fx.wakeQueue(q);
      }
    }
  }
}

/** Delayed jobs whose time has come join their ready queues, in time order. */
export function promoteDue(c: EngineState, now: number): void {
  if (c.delays.peekTime() > now) return;
  for (let job = c.delays.popDue(now); job !== undefined; job = c.delays.popDue(now)) {
    c.leave(job, true);
    c.enterReady(job);
    if (c.persist) c.changes.update(job);
  }
}

/** Earliest time at which `tick` has something to do (Infinity when nothing is scheduled). */
export function nextDue(c: EngineState): number {
  let t = Math.min(c.expiries.nextTime(), c.delays.nextTime(), c.timeouts.nextTime(), c.crons.nextTime());
  for (const q of c.rateWaiters) if (q.rate !== null) t = Math.min(t, q.rate.nextTokenTime());
  return t;
}

/** A due cron pushes one job; runs missed meanwhile collapse into this one. */
function fire(c: EngineState, cron: Cron, now: number): void {
  const q = c.queue(cron.queue); // exists: its crons keep it
  insertJob(c, q, defaultJobInput(cron.data, cron.priority), now, undefined);
  if (c.persist) c.changes.seq(q.partition, c.seqs[q.partition]!);
  let next: number;
  try {
    next = nextRunAfter(cron.schedule, now, cron.name);
  } catch {
    next = Infinity; // validated at upsert; a schedule without future runs just stops
  }
  const prev = cron.nextRun;
  c.crons.reschedule(cron, next);
  if (c.persist) c.changes.cronFired(cronView(cron), prev);
}

