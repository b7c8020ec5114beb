import type { Queue } from './queue.js';
import type { DependencyNotice, Effects, EngineEvent, EventType } from './types.js';

/** Wake-ups, events and dependency notices produced since the last `take`. */
export class EffectLog {
  private wake: Queue[] = [];
  /** null while events are off, so nothing is allocated for them */
  private events: EngineEvent[] | null = null;
  private notices: DependencyNotice[] = [];

  get eventsOn(): boolean {
    return this.events !== null;
  }

  setEvents(on: boolean): void {
    if (on && this.events === null) this.events = [];
    else if (!on) this.events = null;
  }

  /** The queue may be able to deliver now (the shard wakes its waiting pulls). */
  wakeQueue(q: Queue): void {
    if (!q.woken && q.canDeliver()) {
      q.woken = true;
      this.wake.push(q);
    }
  }

  /** Callers check `eventsOn` first so that no arguments are computed when nobody listens. */
  event(type: EventType, q: Queue, jobId: number, now: number, data: string | null, error: string | null, progress: number | null): void {
    this.events?.push({ type, queue: q.name, jobId, timestamp: now, data, error, progress });
  }

  notice(parentId: number, outcome: 'completed' | 'failed', partition: number): void {
    this.notices.push({ parentId, outcome, partition });
  }

  take(): Effects {
    const wake: string[] = [];
    for (const q of this.wake) {
      q.woken = false;
      wake.push(q.name);
    }
    const out: Effects = { wake, events: this.events === null ? [] : this.events, dependencies: this.notices };
    this.wake = [];
    if (this.events !== null) this.events = [];
    this.notices = [];
    return out;
  }
}
