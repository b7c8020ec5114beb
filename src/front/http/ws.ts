import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, WebSocketBehavior, us_socket_context_t } from 'uWebSockets.js';
import uWS from 'uWebSockets.js';
import type { Auth } from '../auth.js';
import type { BusEvent, EventSink } from '../../events/catalogue.js';
import type { EventBus } from '../events.js';
import { errors, type FlashqError } from '../../base/errors.js';
import { validateQueueName } from '../../engine/names.js';
import type { Cors } from './cors.js';
import { asFlashqError, errorEnvelope, JSON_TYPE, statusLine, statusOf } from './envelope.js';

/** Per-subscriber send buffer bound: past it the subscriber is too slow and is disconnected. */
export const WS_MAX_BACKPRESSURE = 1 << 20;
/** How often subscribers are checked against the bound (uWS also skips sends past it). */
const SWEEP_MS = 1000;

interface Sub {
  /** null = every queue */
  queue: string | null;
}

const ALL = '*';
const topicOf = (queue: string) => `q/${queue}`;

/** Token of an event subscription: `?token=` or `Authorization: Bearer` (compat.md "Events"). */
export function subscriberAllowed(auth: Auth, req: HttpRequest): boolean {
  if (!auth.enabled) return true;
  const token = req.getQuery('token');
  return (token !== undefined && token !== '' && auth.check(token)) || auth.checkBearer(req.getHeader('authorization'));
}

/** The optional `:queue` of a subscription path, decoded and validated. */
export function subscriptionQueue(req: HttpRequest, hasQueue: boolean): string | null {
  if (!hasQueue) return null;
  const raw = req.getParameter(0);
  let q: string;
  try {
    q = decodeURIComponent(raw);
  } catch {
    throw errors.invalidQueueName(raw);
  }
  validateQueueName(q);
  return q;
}

/** Refuse a subscription in the envelope (with CORS headers: EventSource reports them). */
export function refuse(res: HttpResponse, cors: Cors, origin: string | null, e: FlashqError): void {
  res.cork(() => {
    res.writeStatus(statusLine(statusOf(e.code)));
    cors.write(res, origin);
    res.writeHeader('Content-Type', JSON_TYPE).end(errorEnvelope(e.message));
  });
}

/**
 * WebSocket event streams `/ws` (every queue) and `/ws/{queue}`: one text message per event, the
 * event's JSON as the shard wrote it. Fan-out is uWS pub/sub: one publish per event and topic,
 * copied to subscribers in native code, so the cost on this thread does not grow with their count.
 */
export class WsEvents implements EventSink {
  private all = 0;
  private readonly perQueue = new Map<string, number>();
  private readonly sockets = new Set<WebSocket<Sub>>();
  private readonly sweep: NodeJS.Timeout;
  dropped = 0;

  constructor(
    private readonly app: TemplatedApp,
    private readonly bus: EventBus,
    private readonly auth: Auth,
    private readonly cors: Cors,
  ) {
    this.sweep = setInterval(() => this.dropSlow(), SWEEP_MS);
    this.sweep.unref();
    app.ws<Sub>('/ws', this.behavior(false));
    app.ws<Sub>('/ws/:queue', this.behavior(true));
  }

  private behavior(hasQueue: boolean): WebSocketBehavior<Sub> {
    return {
      compression: uWS.DISABLED,
      maxPayloadLength: 16 * 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: WS_MAX_BACKPRESSURE,
      // typed as a number in this build's declarations; it is a flag
      closeOnBackpressureLimit: true as unknown as number,
      upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
        const origin = this.cors.originFor(req);
        if (!subscriberAllowed(this.auth, req)) return refuse(res, this.cors, origin, errors.authRequired());
        let queue: string | null;
        try {
          queue = subscriptionQueue(req, hasQueue);
        } catch (e) {
          return refuse(res, this.cors, origin, asFlashqError(e));
        }
        res.upgrade<Sub>(
          { queue },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws: WebSocket<Sub>) => {
        const { queue } = ws.getUserData();
        if (queue === null) {
          ws.subscribe(ALL);
          this.all++;
        } else {
          ws.subscribe(topicOf(queue));
          this.perQueue.set(queue, (this.perQueue.get(queue) ?? 0) + 1);
        }
        this.sockets.add(ws);
        this.bus.interestChanged();
        this.bus.retain();
      },
      close: (ws: WebSocket<Sub>) => {
        if (!this.sockets.delete(ws)) return;
        const { queue } = ws.getUserData();
        if (queue === null) this.all--;
        else {
          const n = (this.perQueue.get(queue) ?? 1) - 1;
          if (n === 0) this.perQueue.delete(queue);
          else this.perQueue.set(queue, n);
        }
        this.bus.release();
        this.bus.interestChanged();
      },
    };
  }

  interest(): 'all' | ReadonlySet<string> {
    return this.all > 0 ? 'all' : new Set(this.perQueue.keys());
  }

  event(ev: BusEvent): number {
    let n = 0;
    let bytes: Uint8Array | null = null;
    if (this.all > 0) {
      this.app.publish(ALL, (bytes = ev.buf.subarray(ev.start, ev.end)), false);
      n += this.all;
    }
    if (this.perQueue.size > 0) {
      const c = this.perQueue.get(ev.queue);
      if (c !== undefined) {
        this.app.publish(topicOf(ev.queue), bytes ?? ev.buf.subarray(ev.start, ev.end), false);
        n += c;
      }
    }
    return n;
  }

  /** A subscriber whose unsent backlog passed the bound is disconnected: it never slows the queue. */
  private dropSlow(): void {
    for (const ws of this.sockets) {
      if (ws.getBufferedAmount() > WS_MAX_BACKPRESSURE) {
        this.dropped++;
        ws.end(1013, 'subscriber too slow');
      }
    }
  }

  get count(): number {
    return this.sockets.size;
  }

  close(): void {
    clearInterval(this.sweep);
    for (const ws of [...this.sockets]) ws.end(1001, 'server stopping');
  }
}
