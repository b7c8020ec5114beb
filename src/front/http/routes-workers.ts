import { parseHeartbeat } from '../workers.js';
import { parseObject, readBody, SMALL_BODY_LIMIT, contentLength } from './body.js';
import { param, route, type HttpContext } from './context.js';

/** Cluster mode: the nodes whose workers a GET /workers answer lacks (they did not answer), comma-separated. */
export const MISSING_NODES_HEADER = 'X-FlashQ-Missing-Nodes';

/**
 * Workers: heartbeats upsert, the list shows those seen in the last 30 s (on every node in cluster
 * mode; nodes that do not answer are left out and named in MISSING_NODES_HEADER, the body keeps
 * the API's shape).
 */
export function workerRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/workers', (x) => {
    ctx.workers.listAll(Date.now()).then(
      ({ workers, missing }) => x.ok(JSON.stringify(workers), missing.length > 0 ? { [MISSING_NODES_HEADER]: missing.join(',') } : undefined),
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
