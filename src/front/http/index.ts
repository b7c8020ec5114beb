import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { log } from '../../log.js';
import { ErrorCode, FlashqError } from '../../base/errors.js';
import { promMetrics } from '../../metrics/prometheus.js';
import { EventBus } from '../events.js';
import { route, type HttpContext, type HttpDeps } from './context.js';
import { InFlight } from './exchange.js';
import { ClientCertGate } from './client-cert-gate.js';
import { Cors } from './cors.js';
import { cronRoutes } from './routes-crons.js';
import { dashboardRoutes } from './routes-dashboard.js';
import { jobRoutes } from './routes-jobs.js';
import { queueRoutes } from './routes-queues.js';
import { serverRoutes } from './routes-server.js';
import { statsRoutes } from './routes-stats.js';
import { webhookRoutes } from './routes-webhooks.js';
import { workerRoutes } from './routes-workers.js';
import { SseEvents } from './sse.js';
import { WsEvents } from './ws.js';

/** How long a stop waits for in-flight requests (blocking pulls are answered by the shards' drain). */
const DRAIN_MS = 5000;

/** `app.close()` exists in this uWS build (closes every socket) but not in its declarations. */
type ClosableApp = TemplatedApp & { close?: () => void };

/**
 * HTTP REST, WebSocket and SSE on uWebSockets.js (port HTTP_PORT), on the front thread. Requests
 * become small wrappers around their raw body and go to the shard that owns their queue or job id;
 * fan-out routes are merged here. Events from the shards reach WebSocket and SSE subscribers and
 * webhooks through one EventBus.
 */
export class HttpFront {
  private listenSocket: us_listen_socket | null = null;
  private gate: ClientCertGate | null = null;

  private constructor(
    private readonly ctx: HttpContext,
    private readonly ws: WsEvents,
    private readonly sse: SseEvents,
  ) {}

  static async start(deps: HttpDeps): Promise<HttpFront> {
    const tls = deps.config.tls;
    // with client certificates the ClientCertGate terminates TLS in front of a plaintext app
    const app: ClosableApp = tls && tls.ca === null ? uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile }) : uWS.App();
    const { dispatcher, auth, webhooks } = deps;
    const bus = new EventBus((on, queues) => dispatcher.eventsWanted(on, queues));
    dispatcher.eventSink = bus;
    await webhooks.load();
    const ctx: HttpContext = {
      front: deps,
      app,
      bus,
      inflight: new InFlight(deps.limit, deps.config.idleTimeoutMs),
      workers: deps.workers,
      webhooks,
      prom: promMetrics(),
      cors: new Cors(deps.config.corsOrigins),
      stopping: false,
    };
    // events first: the event routes are registered before the catch-all
    const ws = new WsEvents(app, bus, auth, ctx.cors, deps.limit);
    const sse = new SseEvents(app, bus, auth, ctx.cors, deps.limit);
    // preflights are answered before any route's auth (browsers send them without credentials)
    ctx.cors.route(app);
    bus.addSink(ws);
    bus.addSink(sse);
    webhooks.attach(bus);
    queueRoutes(ctx);
    jobRoutes(ctx);
    cronRoutes(ctx);
    statsRoutes(ctx);
    workerRoutes(ctx);
    webhookRoutes(ctx);
    serverRoutes(ctx);
    dashboardRoutes(ctx);
    route(ctx, 'any', '/*', (x, req) =>
      x.error(new FlashqError(ErrorCode.NotFound, `Route not found: ${req.getMethod().toUpperCase()} ${req.getUrl()}`)),
    );
    const front = new HttpFront(ctx, ws, sse);
    const { host, httpPort } = deps.config;
    if (tls !== null && tls.ca !== null) {
      const inner = ClientCertGate.socketDir();
      await front.listenUnix(inner.path);
      front.gate = await ClientCertGate.start(host, httpPort, tls, inner, deps.config.idleTimeoutMs);
    } else {
      await front.listen(host, httpPort);
    }
    return front;
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ctx.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`HTTP: cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        resolve();
      });
    });
  }

  private listenUnix(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ctx.app.listen_unix((socket) => {
        if (!socket) {
          reject(new Error(`HTTP: cannot listen on ${path}`));
          return;
        }
        this.listenSocket = socket;
        resolve();
      }, path);
    });
  }

  /** Stop accepting, let in-flight requests finish, end subscriptions, then close every socket. */
  async close(): Promise<void> {
    const { ctx } = this;
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    const gate = this.gate;
    this.gate = null;
    const accepting = gate?.stopAccepting();
    ctx.stopping = true;
    await ctx.inflight.drained(DRAIN_MS);
    this.ws.close();
    this.sse.close();
    ctx.webhooks.detach();
    ctx.bus.removeSink(this.ws);
    ctx.bus.removeSink(this.sse);
    ctx.bus.close();
    if (ctx.front.dispatcher.eventSink === ctx.bus) ctx.front.dispatcher.eventSink = null;
    // idle keep-alive connections have no request to finish: close them with the app
    (ctx.app as ClosableApp).close?.();
    gate?.close();
    await accepting;
    log.debug('http closed');
  }
}
