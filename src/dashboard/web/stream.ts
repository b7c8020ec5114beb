import { api } from './api.js';

export interface JobEvent {
  event_type: string;
  queue: string;
  job_id: number;
  timestamp: number;
  data?: unknown;
  error?: string | null;
  progress?: number;
}

export const EVENT_TYPES = ['job.pushed', 'job.started', 'job.completed', 'job.failed', 'job.progress'] as const;

type Listener = (batch: readonly JobEvent[]) => void;

/** Events waiting for the next flush; past this the oldest are dropped (a flood must not grow the page). */
const MAX_PENDING = 5000;
const FLUSH_MS = 250;

/**
 * The one `/events` SSE subscription of the page, shared by every view. Events are gathered and
 * handed to listeners in batches a few times a second, so a busy server costs the page a bounded
 * amount of work; the server itself drops a subscriber that cannot keep up, and then the stream
 * reconnects.
 */
export class EventStream {
  private source: EventSource | null = null;
  private readonly listeners = new Set<Listener>();
  private pending: JobEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  /** events received since the page loaded, and dropped before a flush */
  received = 0;
  dropped = 0;
  onStatus: ((state: 'live' | 'connecting' | 'down') => void) | null = null;

  start(): void {
    this.stop();
    const url = api.token ? `/events?token=${encodeURIComponent(api.token)}` : '/events';
    const es = new EventSource(url);
    this.source = es;
    this.onStatus?.('connecting');
    const onEvent = (ev: MessageEvent<string>) => this.take(ev.data);
    for (const t of EVENT_TYPES) es.addEventListener(t, onEvent as EventListener);
    es.onopen = () => this.onStatus?.('live');
    es.onerror = () => {
      if (es.readyState === EventSource.CONNECTING) {
        this.onStatus?.('connecting');
        return;
      }
      // closed for good (refused, or the server went away between retries): try again ourselves
      this.onStatus?.('down');
      es.close();
      if (this.source === es) this.source = null;
      this.retry = setTimeout(() => this.start(), 3000);
    };
  }

  stop(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private take(text: string): void {
    let ev: JobEvent;
    try {
      ev = JSON.parse(text) as JobEvent;
    } catch {
      return;
    }
    this.received++;
    if (this.pending.length >= MAX_PENDING) {
      // keep the newer half: dropping in halves keeps a flood's cost per event constant
      this.dropped += MAX_PENDING / 2;
      this.pending = this.pending.slice(MAX_PENDING / 2);
    }
    this.pending.push(ev);
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    for (const fn of this.listeners) {
      try {
        fn(batch);
      } catch (e) {
        console.warn('event listener failed', e);
      }
    }
  }
}

export const stream = new EventStream();
