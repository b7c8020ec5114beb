import type { EventType } from '../engine/types.js';
import { BusEvent, isEventType, type EventControl, type EventSink, type EventSource } from '../events/catalogue.js';
import { findMember, keyBytes, skipWs, walk } from '../protocol/json-walk.js';

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
// `{"event_type":"` and `","queue":"`: the shard writes these members first, in this order
const HEAD = Buffer.from('{"event_type":"', 'latin1');
const MID = Buffer.from('","queue":"', 'latin1');
const EVENT_MARK = Buffer.from('{"event_type":"', 'latin1');
const EVENT_TYPE = keyBytes('event_type');
const QUEUE = keyBytes('queue');

/**
 * The front's event bus. Shards only produce events while the bus asks for them (a control message
 * to every shard), and it asks only while someone listens: events cost nothing when nobody
 * subscribes. Each shard batch (a JSON array) is split into its events by walking bytes; payloads
 * are never parsed on the front.
 */
export class EventBus implements EventSource {
  private readonly sinks = new Set<EventSink>();
  private holders = 0;
  private producing = false;
  /** queues asked of the shards; null = all */
  private queues: readonly string[] | null = null;
  private readonly ev = new BusEvent();
  private readonly perWindow: number;
  private windowStart = 0;
  private spent = 0;
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

  /** Dispatcher hook: one JSON array of events from one shard turn. */
  readonly onEvents = (json: string): void => {
    if (this.holders === 0 || this.sinks.size === 0) return;
    this.dispatch(Buffer.from(json, 'utf8'));
  };

  dispatch(buf: Buffer): void {
    const end = buf.length;
    let i = skipWs(buf, 0, end);
    if (buf[i] !== 0x5b) return;
    i = skipWs(buf, i + 1, end);
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.spent = 0;
    }
    const ev = this.ev;
    while (i < end && buf[i] === 0x7b) {
      if (this.shedTimer !== null || this.spent >= this.perWindow) {
        this.shed(buf, i, end, now);
        break;
      }
      const e = skipObject(buf, i, end);
      if (e < 0) break;
      this.spent += EVENT_COST;
      if (readHead(buf, i, e, ev)) {
        let n = 0;
        for (const s of this.sinks) n += s.event(ev);
        this.spent += n;
        this.stats.delivered += n;
      }
      i = skipWs(buf, e, end);
      if (buf[i] !== 0x2c) break;
      i = skipWs(buf, i + 1, end);
    }
    for (const s of this.sinks) s.batchEnd?.();
    ev.set(EMPTY, 0, 0, 'job.pushed', 0, 0, null);
  }

  /** Over budget: drop the rest of the batch unread and pause the shards until the window ends. */
  private shed(buf: Buffer, from: number, end: number, now: number): void {
    for (let k = buf.indexOf(EVENT_MARK, from); k >= 0 && k < end; k = buf.indexOf(EVENT_MARK, k + EVENT_MARK.length)) this.stats.dropped++;
    if (this.shedTimer !== null) return;
    this.shedTimer = setTimeout(
      () => {
        this.shedTimer = null;
        this.windowStart = Date.now();
        this.spent = 0;
        this.produce();
      },
      Math.max(1, this.windowStart + WINDOW_MS - now),
    );
    this.shedTimer.unref();
    this.produce();
  }
}

/** i at `{`: the index after the matching `}`, or -1. Strings are skipped natively when long. */
function skipObject(b: Buffer, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) {
      i = skipString(b, i + 1, end);
      if (i < 0) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
    i++;
  }
  return -1;
}

/** i just after an opening quote: the index after the closing quote, or -1. */
function skipString(b: Buffer, i: number, end: number): number {
  // short strings (keys, small values) are cheaper to scan here than to call into native code
  for (let k = 0; k < 32 && i < end; k++) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
  }
  for (;;) {
    const q = b.indexOf(0x22, i);
    if (q < 0 || q >= end) return -1;
    let backslashes = 0;
    for (let k = q - 1; b[k] === 0x5c; k--) backslashes++;
    if ((backslashes & 1) === 0) return q + 1;
    i = q + 1;
  }
}

function matches(b: Buffer, at: number, prefix: Buffer): boolean {
  if (at + prefix.length > b.length) return false;
  for (let k = 0; k < prefix.length; k++) if (b[at + k] !== prefix[k]) return false;
  return true;
}

/** The type at b[ts..], by its length and fifth letter, without making a string. */
function typeAt(b: Buffer, ts: number): EventType | null {
  switch (b[ts + 4]) {
    case 0x70: // p
      return b[ts + 10] === 0x22 ? 'job.pushed' : b[ts + 12] === 0x22 ? 'job.progress' : null;
    case 0x73: // s
      return b[ts + 11] === 0x22 ? 'job.started' : null;
    case 0x63: // c
      return b[ts + 13] === 0x22 ? 'job.completed' : null;
    case 0x66: // f
      return b[ts + 10] === 0x22 ? 'job.failed' : null;
    default:
      return null;
  }
}

/** Type and queue of the event object b[s, e); false when it is not a well-formed event. */
function readHead(b: Buffer, s: number, e: number, out: BusEvent): boolean {
  if (matches(b, s, HEAD)) {
    const ts = s + HEAD.length;
    const type = typeAt(b, ts);
    if (type !== null) {
      const te = ts + type.length;
      if (matches(b, te, MID)) {
        const qs = te + MID.length;
        // queue names are plain ASCII (validated), so no escape can hide a quote
        let qe = qs;
        while (qe < e && b[qe] !== 0x22) qe++;
        if (qe < e) {
          out.set(b, s, e, type, qs, qe, null);
          return true;
        }
      }
    }
  }
  // not in the shard's usual layout: find the members the slow way
  const type = stringMember(b, s, e, EVENT_TYPE);
  const queue = stringMember(b, s, e, QUEUE);
  if (type === null || queue === null || !isEventType(type)) return false;
  out.set(b, s, e, type, 0, 0, queue);
  return true;
}

function stringMember(b: Buffer, s: number, e: number, key: Uint8Array): string | null {
  const vs = findMember(b, s, e, key);
  if (vs < 0) return null;
  try {
    const v: unknown = JSON.parse(b.toString('utf8', vs, walk.valueEnd));
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
