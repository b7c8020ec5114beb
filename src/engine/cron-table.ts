import { DelayHeap } from './delay-heap.js';
import type { CronView } from './types.js';

export interface Cron {
  readonly name: string;
  readonly queue: string;
  readonly schedule: string;
  readonly data: string;
  readonly priority: number;
  nextRun: number;
}

/** The registered crons and when each fires next (schedule math lives in cron-schedule.ts). */
export class CronTable {
  private readonly byName = new Map<string, Cron>();
  private readonly due = new DelayHeap<Cron>((time, c) => this.byName.get(c.name) === c && c.nextRun === time);

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Cron | undefined {
    return this.byName.get(name);
  }

  /** Store (replacing any cron of that name); returns the replaced one. */
  set(cron: Cron): Cron | undefined {
    const old = this.byName.get(cron.name);
    this.byName.set(cron.name, cron);
    this.due.push(cron.nextRun, cron);
    if (old !== undefined) this.due.forget();
    return old;
  }

  delete(name: string): Cron | undefined {
    const old = this.byName.get(name);
    if (old !== undefined) {
      this.byName.delete(name);
      this.due.forget();
    }
    return old;
  }

  /** Remove every cron `drop` selects (their partition left this engine); returns them. */
  deleteWhere(drop: (cron: Cron) => boolean): Cron[] {
    const out: Cron[] = [];
    for (const cron of this.byName.values()) if (drop(cron)) out.push(cron);
    for (const cron of out) this.byName.delete(cron.name);
    if (out.length > 0) this.due.compact();
    return out;
  }

  /** Take the next cron due at `now` off the schedule; the caller reschedules it. */
  popDue(now: number): Cron | undefined {
    return this.due.popDue(now);
  }

  reschedule(cron: Cron, nextRun: number): void {
    cron.nextRun = nextRun;
    this.due.push(nextRun, cron);
  }

  nextTime(): number {
    return this.due.nextTime();
  }

  list(): CronView[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(view);
  }
}

export function view(c: Cron): CronView {
  return { name: c.name, queue: c.queue, data: c.data, schedule: c.schedule, priority: c.priority, nextRun: c.nextRun };
}
