/**
 * QueueEvents: the server's job events over its WebSocket (`/ws` for every queue, `/ws/{queue}`
 * for one). Each event is emitted twice: as 'event' (the object as received) and under its short
 * name ('pushed', 'started', 'completed', 'failed', 'progress'). The socket reconnects with
 * back-off until close(); events published while it was down are not replayed (the server keeps
 * none).
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import WebSocket from 'ws';

export type EventType = 'job.pushed' | 'job.started' | 'job.completed' | 'job.failed' | 'job.progress';

export interface JobEvent {
  event_type: EventType;
  queue: string;
  job_id: number;
  /** epoch ms */
  timestamp: number;
  data?: unknown;
  error?: string | null;
  progress?: number;
}

export interface QueueEventsOptions {
  host?: string;
  /** HTTP/WebSocket port; default 6790 */
  httpPort?: number;
  /** full base URL (`ws://…`, `wss://…`); overrides host and httpPort */
  url?: string;
  token?: string;
  /** wss with these node:tls options (`true`: system CAs) */
  tls?: boolean | TlsConnectionOptions;
  /** default true */
  reconnect?: boolean;
  /** default 100, doubled per failed attempt up to 5000 */
  reconnectInitialMs?: number;
}

/** Events: the short names above, 'event', 'open', 'close' (socket dropped), 'error'. */
export class QueueEvents extends EventEmitter {
  /** null = every queue */
  readonly queue: string | null;
  private readonly url: string;
  private readonly tls: TlsConnectionOptions | null;
  private readonly reconnect: boolean;
  private readonly initialMs: number;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private opened: Promise<void>;
  private resolveOpened!: () => void;
  private rejectOpened!: (e: Error) => void;

  constructor(queue: string | null, options: QueueEventsOptions = {}) {
    super();
    this.queue = queue;
    this.tls = options.tls === true ? {} : options.tls || null;
    const host = options.host ?? '127.0.0.1';
    const base = options.url ?? `${this.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${options.httpPort ?? 6790}`;
    const url = new URL(queue === null ? '/ws' : `/ws/${encodeURIComponent(queue)}`, base);
    if (options.token !== undefined) url.searchParams.set('token', options.token);
    this.url = url.href;
    this.reconnect = options.reconnect ?? true;
    this.initialMs = options.reconnectInitialMs ?? 100;
    this.opened = new Promise((res, rej) => {
      this.resolveOpened = res;
      this.rejectOpened = rej;
    });
    this.opened.catch(() => {}); // reported through waitUntilReady() or 'error'
    this.open();
  }

  /** Resolves once the first subscription is open; rejects if the first attempt fails. */
  waitUntilReady(): Promise<void> {
    return this.opened;
  }

  /** Stop listening; no reconnect. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
    });
  }

  private open(): void {
    const ws = new WebSocket(this.url, this.tls ? { ...this.tls } : {});
    this.ws = ws;
    let wasOpen = false;
    ws.on('open', () => {
      wasOpen = true;
      this.attempt = 0;
      this.resolveOpened();
      this.emit('open');
    });
    ws.on('message', (raw: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return;
      let ev: JobEvent;
      try {
        ev = JSON.parse(raw.toString()) as JobEvent;
      } catch {
        this.report(new Error(`event that is not JSON: ${raw.toString().slice(0, 200)}`));
        return;
      }
      this.emit('event', ev);
      if (typeof ev.event_type === 'string' && ev.event_type.startsWith('job.')) this.emit(ev.event_type.slice(4), ev);
    });
    ws.on('unexpected-response', (_req, res) => {
      // the server refused the upgrade (401 without a valid token, 400 for a bad queue name)
      const err = new Error(`WebSocket refused by ${this.url.replace(/token=[^&]*/, 'token=…')}: HTTP ${res.statusCode}`);
      res.resume();
      this.rejectOpened(err);
      this.closed = true;
      this.report(err);
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!wasOpen && this.attempt === 0) this.rejectOpened(err);
      this.report(err);
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      if (wasOpen) this.emit('close');
      if (this.closed || !this.reconnect) return;
      const delay = Math.min(5000, this.initialMs * 2 ** Math.min(this.attempt, 16));
      this.attempt++;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.closed) this.open();
      }, delay);
    });
  }

  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
