import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Auth } from '../auth.js';
import type { BusEvent, EventSink } from '../../events/catalogue.js';
import type { EventBus } from '../events.js';
import { errors } from '../../base/errors.js';
import type { Cors } from './cors.js';
import { asFlashqError } from './envelope.js';
import { refuse, subscriberAllowed, subscriptionQueue } from './ws.js';

/** Unsent bytes a stream may hold before it counts as too slow and is closed. */
export const SSE_MAX_BACKLOG = 1 << 20;
export const KEEPALIVE_MS = 15_000;

interface Stream {
  res: HttpResponse;
  queue: string | null;
  /** bytes written since the socket last took a whole write */
  backlog: number;
  open: boolean;
}

const KEEPALIVE = Buffer.from(': keep-alive\n\n', 'latin1');
const DATA = Buffer.from('\ndata: ', 'latin1');

/**
 * Server-sent event streams `/events` and `/events/{queue}`: frames `event: <type>` / `data: <json>`,
 * a keep-alive comment every 15 s. Frames of one shard batch are gathered and written with one
 * write per stream; a stream whose backlog passes the bound is closed.
 */
export class SseEvents implements EventSink {
  private readonly streams = new Set<Stream>();
  private all = 0;
  private readonly perQueue = new Map<string, Set<Stream>>();
  private batchAll: Buffer[] = [];
  private readonly batchQueues = new Map<string, Buffer[]>();
  private readonly keepalive: NodeJS.Timeout;
  dropped = 0;

  constructor(
    app: TemplatedApp,
    private readonly bus: EventBus,
    private readonly auth: Auth,
    private readonly cors: Cors,
  ) {
    app.get('/events', (res, req) => this.open(res, req, false));
    app.get('/events/:queue', (res, req) => this.open(res, req, true));
    this.keepalive = setInterval(() => {
      for (const s of this.streams) this.write(s, KEEPALIVE);
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  private open(res: HttpResponse, req: HttpRequest, hasQueue: boolean): void {
    const origin = this.cors.originFor(req);
    if (!subscriberAllowed(this.auth, req)) return refuse(res, this.cors, origin, errors.authRequired());
    let queue: string | null;
    try {
      queue = subscriptionQueue(req, hasQueue);
    } catch (e) {
      return refuse(res, this.cors, origin, asFlashqError(e));
    }
    const s: Stream = { res, queue, backlog: 0, open: true };
    res.onAborted(() => this.forget(s));
    this.streams.add(s);
    if (queue === null) this.all++;
    else {
      let set = this.perQueue.get(queue);
      if (!set) this.perQueue.set(queue, (set = new Set()));
      set.add(s);
    }
    this.bus.interestChanged();
    this.bus.retain();
    res.cork(() => {
      res.writeStatus('200 OK');
      this.cors.write(res, origin);
      res
        .writeHeader('Content-Type', 'text/event-stream')
        .writeHeader('Cache-Control', 'no-cache')
        .writeHeader('X-Accel-Buffering', 'no')
        // the first chunk sends the headers, so the client sees the stream open at once
        .write(': connected\n\n');
    });
  }

  private forget(s: Stream): void {
    if (!s.open) return;
    s.open = false;
    this.streams.delete(s);
    if (s.queue === null) this.all--;
    else {
      const set = this.perQueue.get(s.queue);
      set?.delete(s);
      if (set && set.size === 0) this.perQueue.delete(s.queue);
    }
    this.bus.release();
    this.bus.interestChanged();
  }

  interest(): 'all' | ReadonlySet<string> {
    return this.all > 0 ? 'all' : new Set(this.perQueue.keys());
  }

  event(ev: BusEvent): number {
    const queueSubs = this.perQueue.size > 0 ? this.perQueue.get(ev.queue) : undefined;
    if (this.all === 0 && queueSubs === undefined) return 0;
    const frame = sseFrame(ev);
    if (this.all > 0) this.batchAll.push(frame);
    if (queueSubs !== undefined) {
      let list = this.batchQueues.get(ev.queue);
      if (!list) this.batchQueues.set(ev.queue, (list = []));
      list.push(frame);
    }
    return this.all + (queueSubs?.size ?? 0);
  }

  batchEnd(): void {
    if (this.batchAll.length > 0) {
      const chunk = Buffer.concat(this.batchAll);
      this.batchAll = [];
      for (const s of this.streams) if (s.queue === null) this.write(s, chunk);
    }
    if (this.batchQueues.size > 0) {
      for (const [queue, frames] of this.batchQueues) {
        const set = this.perQueue.get(queue);
        if (!set) continue;
        const chunk = Buffer.concat(frames);
        for (const s of set) this.write(s, chunk);
      }
      this.batchQueues.clear();
    }
  }

  private write(s: Stream, chunk: Buffer): void {
    if (!s.open) return;
    let ok = false;
    s.res.cork(() => {
      ok = s.res.write(chunk);
    });
    if (ok) {
      s.backlog = 0;
      return;
    }
    s.backlog += chunk.length;
    if (s.backlog > SSE_MAX_BACKLOG) {
      this.dropped++;
      // forced close: onAborted runs and forgets the stream
      s.res.close();
    }
  }

  get count(): number {
    return this.streams.size;
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const s of [...this.streams]) {
      this.forget(s);
      s.res.cork(() => s.res.end());
    }
  }
}

/**
 * `event: <type>\ndata: <json>\n\n`. An event's JSON may hold raw line breaks (a pretty-printed
 * payload): each line becomes its own `data:` line, which SSE clients join back with `\n`.
 */
export function sseFrame(ev: BusEvent): Buffer {
  const { buf, start, end } = ev;
  const head = `event: ${ev.type}\ndata: `;
  // bounded to this event's bytes (the buffer holds the whole batch)
  const own = buf.subarray(start, end);
  if (own.indexOf(0x0a) < 0 && own.indexOf(0x0d) < 0) {
    const out = Buffer.allocUnsafe(head.length + (end - start) + 2);
    let n = out.write(head, 0, 'latin1');
    n += buf.copy(out, n, start, end);
    out[n++] = 0x0a;
    out[n] = 0x0a;
    return out;
  }
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  let i = start;
  while (i < end) {
    let nl = i;
    while (nl < end && buf[nl] !== 0x0a && buf[nl] !== 0x0d) nl++;
    parts.push(buf.subarray(i, nl));
    if (nl >= end) break;
    // \r\n counts as one break
    i = buf[nl] === 0x0d && buf[nl + 1] === 0x0a ? nl + 2 : nl + 1;
    parts.push(DATA);
  }
  parts.push(Buffer.from('\n\n', 'latin1'));
  return Buffer.concat(parts);
}
