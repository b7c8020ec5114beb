import type { EventType } from '../engine/types.js';

/**
 * The job events the server publishes, as the front's fan-out (WebSocket, SSE) and the webhooks
 * both see them. Below both, so that neither imports the other.
 */

const EMPTY = Buffer.alloc(0);

/**
 * One job event as the bus hands it to sinks: its type, queue and the exact bytes of its JSON
 * object `buf[start, end)`. Valid only during the call (the buffer is the shard's batch and the
 * object is reused): a sink that keeps the bytes copies them.
 */
export class BusEvent {
  type: EventType = 'job.pushed';
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  qs = 0;
  qe = 0;
  private q: string | null = null;

  /** decoded on first use: fan-out to every-queue subscribers never needs it */
  get queue(): string {
    return (this.q ??= this.buf.toString('latin1', this.qs, this.qe));
  }

  set(buf: Buffer, start: number, end: number, type: EventType, qs: number, qe: number, queue: string | null): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.type = type;
    this.qs = qs;
    this.qe = qe;
    this.q = queue;
  }
}

/** Something that consumes events: the WebSocket/SSE fan-out, the webhooks. */
export interface EventSink {
  /** returns how many deliveries the event caused (subscribers or webhooks it went to) */
  event(ev: BusEvent): number;
  /** end of one shard batch (a sink may gather per batch and write once here) */
  batchEnd?(): void;
  /** the queues whose events it wants right now; absent = every queue */
  interest?(): 'all' | ReadonlySet<string>;
  /**
   * true: only events of this node's own partitions (cluster mode). Webhooks are: each event is
   * delivered by the node that owns its partition, so it is delivered once.
   */
  readonly localOnly?: boolean;
}

/** Switch event production in the shards; `queues` null = every queue. */
export type EventControl = (on: boolean, queues: readonly string[] | null) => void;

/** The bus as a sink's owner sees it: what the webhooks need to feed on events. */
export interface EventSource {
  addSink(sink: EventSink): void;
  removeSink(sink: EventSink): void;
  /** a listener starts wanting events (the shards produce them while anyone does) */
  retain(): void;
  release(): void;
  /** a sink's `interest()` changed */
  interestChanged(): void;
}

/** Event types; an event record's header carries the index of its type here. */
export const EVENT_TYPES: readonly EventType[] = ['job.pushed', 'job.started', 'job.completed', 'job.failed', 'job.progress'];
const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const INDEX: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((t, i) => [t, i]));

export function eventTypeIndex(type: EventType): number {
  return INDEX.get(type)!;
}

export function isEventType(s: string): s is EventType {
  return TYPES.has(s);
}
