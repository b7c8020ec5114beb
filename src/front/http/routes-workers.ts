import { parseHeartbeat } from '../workers.js';
import { parseObject, readBody, SMALL_BODY_LIMIT, contentLength } from './body.js';
import { param, route, type HttpContext } from './context.js';

/** Workers: heartbeats upsert, the list shows those seen in the last 30 s (on every node in cluster mode). */
export function workerRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/workers', (x) => {
    ctx.workers.listAll(Date.now()).then(
      (list) => x.ok(JSON.stringify(list)),
      (e: unknown) => x.error(e),
    );
  });

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
