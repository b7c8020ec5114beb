import type { HttpRequest } from 'uWebSockets.js';
import { errors } from '../../base/errors.js';
import { optFilterState } from '../../protocol/fields.js';
import type { Request } from '../../protocol/request.js';
import { validateQueueName } from '../../engine/names.js';
import { answerFanout, route, type HttpContext } from './context.js';
import { byId } from './shard-routes.js';

/** Job operations (API document "Job Operations"). */
export function jobRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/jobs', (x, req) => answerFanout(ctx, x, browseRequest(req, ctx.front.config.maxBatch)));
  byId(ctx, 'get', '/jobs/:id', { cmd: 'GETJOB' });
  byId(ctx, 'get', '/jobs/:id/state', { cmd: 'GETSTATE' });
  byId(ctx, 'post', '/jobs/:id/ack', { cmd: 'ACK', body: true });
  byId(ctx, 'post', '/jobs/:id/fail', { cmd: 'FAIL', body: true });
  byId(ctx, 'post', '/jobs/:id/cancel', { cmd: 'CANCEL' });
  byId(ctx, 'post', '/jobs/:id/progress', { cmd: 'PROGRESS', body: true });
  byId(ctx, 'get', '/jobs/:id/progress', { cmd: 'GETPROGRESS' });
  byId(ctx, 'get', '/jobs/:id/result', { cmd: 'GETRESULT' });
}

const UINT = /^[0-9]{1,15}$/;

function intQuery(req: HttpRequest, key: string, min: number, def: number): number {
  const v = req.getQuery(key);
  if (v === undefined || v === '') return def;
  const n = UINT.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw errors.badRequest(`Invalid parameter "${key}": expected an integer >= ${min}`);
  return n;
}

/** GET /jobs?queue&state&limit&offset: validated here since the front runs the fan-out. */
export function browseRequest(req: HttpRequest, maxBatch: number): Request {
  const queue = req.getQuery('queue') || null;
  if (queue !== null) validateQueueName(queue);
  const state = optFilterState(req.getQuery('state') || null, 'state');
  const limit = Math.min(intQuery(req, 'limit', 1, 100), Math.min(1000, maxBatch));
  const offset = intQuery(req, 'offset', 0, 0);
  return { cmd: 'JOBS', queue, state, limit, offset };
}
