import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCode, errors, FlashqError } from '../../base/errors.js';
import type { Request } from '../../protocol/request.js';
import { Format } from '../../protocol/result.js';
import { validateQueueName } from '../../engine/names.js';
import type { EventBus } from '../events.js';
import type { WorkerRegistry } from '../workers.js';
import type { WebhookRegistry } from '../../webhooks/registry.js';
import type { PromMetrics } from '../../metrics/prometheus.js';
import type { MetricsHistory } from '../../metrics/history.js';
import type { FrontParts, ServerControl } from '../parts.js';
import type { Cors } from './cors.js';
import { Exchange, InFlight } from './exchange.js';

/** What the server hands the HTTP listener at each start. */
export interface HttpDeps extends FrontParts {
  /** metrics samples, fed by the server's sampler */
  readonly history: MetricsHistory;
  /** kept by the server across restarts */
  readonly workers: WorkerRegistry;
  readonly webhooks: WebhookRegistry;
  readonly server: ServerControl;
}

/** Everything the route modules need, built once per listener start. */
export interface HttpContext {
  readonly front: HttpDeps;
  readonly app: TemplatedApp;
  readonly bus: EventBus;
  readonly inflight: InFlight;
  readonly workers: WorkerRegistry;
  readonly webhooks: WebhookRegistry;
  readonly prom: PromMetrics;
  readonly cors: Cors;
  /** set while the listener is stopping: new requests are refused with 503 */
  stopping: boolean;
}

export type Method = 'get' | 'post' | 'del' | 'any';
export type Handler = (x: Exchange, req: HttpRequest) => void;

/**
 * Register a route. Every answer carries the CORS headers (errors too, so browsers can read them).
 * Auth is checked first (every route but GET /health needs the bearer token when
 * AUTH_TOKENS is set), then the handler runs synchronously: uWS's HttpRequest is only valid during
 * the callback, so handlers read headers, parameters and the query before any asynchronous step.
 */
export function route(ctx: HttpContext, method: Method, pattern: string, handler: Handler, open = false): void {
  ctx.app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
    const x = new Exchange(res, ctx.inflight, ctx.front.dispatcher, ctx.cors, ctx.cors.originFor(req));
    if (ctx.stopping) {
      x.error(new FlashqError(ErrorCode.StorageUnavailable, 'Server is stopping'), true);
      return;
    }
    const limit = ctx.inflight.limit;
    if (limit !== null && limit.exceeded) {
      x.error(errors.tooManyConnections(limit.max), true);
      return;
    }
    if (!open && !ctx.front.auth.checkBearer(req.getHeader('authorization'))) {
      x.error(errors.authRequired());
      return;
    }
    // shards' rings are full: TCP stops reading; HTTP clients are told to come back instead
    if (!open && ctx.front.dispatcher.paused) {
      x.error(new FlashqError(ErrorCode.StorageUnavailable, 'Server busy: retry later'));
      return;
    }
    try {
      handler(x, req);
    } catch (e) {
      x.error(e);
    }
  });
}

/** A path segment, URL-decoded (uWS hands parameters raw). */
export function param(req: HttpRequest, index: number): string {
  const raw = req.getParameter(index);
  if (raw.indexOf('%') < 0) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw errors.badRequest(`Invalid path segment: ${JSON.stringify(raw.slice(0, 64))}`);
  }
}

/** A queue path segment, validated here when the front itself needs the name (subscriptions, webhooks). */
export function queueParam(req: HttpRequest, index: number): string {
  const q = param(req, index);
  validateQueueName(q);
  return q;
}

const DIGITS = /^[0-9]+$/;

/**
 * A job id path segment. Digits that cannot be an id (0, beyond 2^53) name no job: 404 like any
 * unknown id. Anything else is a 400 naming it.
 */
export function idParam(req: HttpRequest, index: number): number {
  const raw = param(req, index);
  if (!DIGITS.test(raw)) throw errors.badRequest(`Invalid job id: ${JSON.stringify(raw.slice(0, 64))}`);
  const n = raw.length <= 16 ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw errors.jobNotFound(raw.length > 64 ? raw.slice(0, 64) + '…' : raw);
  return n;
}

/** The query parameters a route reads, decoded, omitting absent/empty ones. */
export function queryOf(req: HttpRequest, keys: readonly string[]): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k of keys) {
    const v = req.getQuery(k);
    if (v !== undefined && v !== '') (out ??= {})[k] = v;
  }
  return out;
}

/** Answer a fan-out request (STATS, METRICS, LISTQUEUES, CRONLIST, JOBS) merged from every shard. */
export function answerFanout(ctx: HttpContext, x: Exchange, req: Request): void {
  ctx.front.fanout.result(req).then(
    (result) => x.okBytes(ctx.front.fanout.encoder.answer(Format.Http, req, result, null)),
    (e: unknown) => x.error(e),
  );
}
