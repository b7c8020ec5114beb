import { parseHeartbeat } from '../workers.js';
import { parseObject, readBody, SMALL_BODY_LIMIT, contentLength } from './body.js';
import { param, route, type HttpContext } from './context.js';

/** Workers: heartbeats upsert, the list shows those seen in the last 30 s. */
export function workerRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/workers', (x) => x.ok(JSON.stringify(ctx.workers.list(Date.now()))));

  route(ctx, 'post', '/workers/:id/heartbeat', (x, req) => {
    const id = param(req, 0);
    readBody(x, contentLength(req), SMALL_BODY_LIMIT, (body) => {
      const fields = parseObject(x, body, true);
      if (fields === null) return;
      try {
        x.ok(JSON.stringify(ctx.workers.heartbeat(id, parseHeartbeat(id, fields), Date.now())));
      } catch (e) {
        x.error(e);
      }
    });
  });
}
