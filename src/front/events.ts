import { BusEvent, EVENT_TYPES, type EventControl, type EventSink, type EventSource } from '../events/catalogue.js';
import type { ShardEventSink } from './dispatcher.js';

/**
 * What event fan-out may spend per second, in deliveries (one event to one subscriber or webhook);
 * reading an event costs EVENT_COST deliveries whether anyone wants it or not (the shard produced
 * it, the front walked it). Past the budget, the rest of the window's events are dropped and the
 * shards stop producing them until the window ends: subscribers lose events under extreme load,
 * the queue never slows (compat.md "Events"). 100 subscribers of every queue get up to ~980
 * events/s each; a subscriber of one queue up to 50,000 events/s. A delivery costs the server
 * ≈0.18 µs of CPU here (500k deliveries/s took 8.8% of a core), so the budget is ≈2% of a core;
 * bench/http.ts measures what it does to PUSHB.
 */
export const DELIVERY_BUDGET = 100_000;
export const EVENT_COST = 2;
/**
 * Each window starts with events on, and the shards only see "off" a turn or two after the budget
 * ran out; that overshoot is produced and dropped unread. One-second windows keep it to one burst
 * per second (250 ms windows cost PUSHB a few per cent more).
 */
const WINDOW_MS = 1000;

const EMPTY = Buffer.alloc(0);

/**
 * The front's event bus. Shards only produce events while the bus asks for them (a control message
 * to every shard), and it asks only while someone listens: events cost nothing when nobody
 * subscribes. Each event arrives as its own record whose header names its type and where its
 * queue sits: the front reads no JSON, payloads least of all.
 */
export class EventBus implements EventSource, ShardEventSink {
  private readonly sinks = new Set<EventSink>();
  private holders = 0;
  private producing = false;
  /** queues asked of the shards; null = all */
  private queues: readonly string[] | null = null;
  private readonly ev = new BusEvent();
  private readonly perWindow: number;
  private windowStart = 0;
  private spent = 0;
  /** events of the current shard turn were seen (its sinks get batchEnd) */
  private inBatch = false;
  private shedTimer: NodeJS.Timeout | null = null;
  readonly stats = { delivered: 0, dropped: 0 };

  /**
   * `control` switches event production in every shard. The list of wanted queues lets a shard
   * skip the events of queues nobody listens to (shards that do not filter send everything and the
   * sinks filter here).
   */
  constructor(
    private readonly control: EventControl,
    budgetPerSecond = DELIVERY_BUDGET,
  ) {
    this.perWindow = Math.max(1, Math.round((budgetPerSecond * WINDOW_MS) / 1000));
  }

  get listening(): boolean {
    return this.holders > 0;
  }

  get shedding(): boolean {
    return this.shedTimer !== null;
  }

  addSink(sink: EventSink): void {
    this.sinks.add(sink);
    this.interestChanged();
  }

  removeSink(sink: EventSink): void {
    this.sinks.delete(sink);
    this.interestChanged();
  }

  /** A subscriber (or the set of webhooks) starts listening. */
  retain(): void {
    this.holders++;
    this.produce();
  }

  release(): void {
    if (this.holders === 0) return;
    this.holders--;
    this.produce();
  }

  /** Stop everything (the listener closes). */
  close(): void {
    if (this.shedTimer) clearTimeout(this.shedTimer);
    this.shedTimer = null;
    this.holders = 0;
    this.produce();
  }

  /** A sink's subscriptions changed: ask the shards for the new set of queues if it differs. */
  interestChanged(): void {
    let all = false;
    const union = new Set<string>();
    for (const s of this.sinks) {
      const i = s.interest ? s.interest() : 'all';
      if (i === 'all') all = true;
      else for (const q of i) union.add(q);
    }
    const next = all ? null : [...union].sort();
    const prev = this.queues;
    if (next === prev || (next !== null && prev !== null && next.length === prev.length && next.every((q, k) => q === prev[k]))) return;
    this.queues = next;
    if (this.producing) this.control(true, next);
  }

  private produce(): void {
    const want = this.holders > 0 && this.shedTimer === null;
    if (want === this.producing) return;
    this.producing = want;
    this.control(want, this.queues);
  }

  /**
   * Dispatcher hook: one event of a shard turn, its JSON object buf[start, end) and its queue's
   * bytes buf[qs, qe), valid during the call.
   */
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void {
    if (this.holders === 0 || this.sinks.size === 0) return;
    const eventType = EVENT_TYPES[type];
    if (eventType === undefined) return;
    if (!this.inBatch) {
      this.inBatch = true;
      const now = Date.now();
      if (now - this.windowStart >= WINDOW_MS) {
        this.windowStart = now;
        this.spent = 0;
      }
    }
    if (this.shedTimer !== null || this.spent >= this.perWindow) {
      this.shed();
      return;
    }
    this.spent += EVENT_COST;
    const ev = this.ev;
    ev.set(buf, start, end, eventType, qs, qe, null);
    let n = 0;
    for (const s of this.sinks) n += s.event(ev);
    this.spent += n;
    this.stats.delivered += n;
  }

  /** Dispatcher hook: the shard turn's events are all in. */
  endBatch(): void {
    if (!this.inBatch) return;
    this.inBatch = false;
    for (const s of this.sinks) s.batchEnd?.();
    this.ev.set(EMPTY, 0, 0, 'job.pushed', 0, 0, null);
  }

  /** Over budget: drop the event unread and pause the shards until the window ends. */
  private shed(): void {
    this.stats.dropped++;
    if (this.shedTimer !== null) return;
    this.shedTimer = setTimeout(
      () => {
        this.shedTimer = null;
        this.windowStart = Date.now();
        this.spent = 0;
        this.produce();
      },
      Math.max(1, this.windowStart + WINDOW_MS - Date.now()),
    );
    this.shedTimer.unref();
    this.produce();
  }
}
