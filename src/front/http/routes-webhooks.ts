import { contentLength, parseObject, readBody, SMALL_BODY_LIMIT } from './body.js';
import { param, route, type HttpContext } from './context.js';
import { byQueue } from './shard-routes.js';

/** Outgoing webhooks (create, list, delete) and the incoming webhook that pushes a job. */
export function webhookRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/webhooks', (x) => x.ok(JSON.stringify(ctx.webhooks.list())));

  route(ctx, 'post', '/webhooks', (x, req) => {
    readBody(x, contentLength(req), SMALL_BODY_LIMIT, (body) => {
      const fields = parseObject(x, body, false);
      if (fields === null) return;
      ctx.webhooks.create(fields, Date.now()).then(
        (view) => x.ok(JSON.stringify(view)),
        (e: unknown) => x.error(e),
      );
    });
  });

  route(ctx, 'del', '/webhooks/:id', (x, req) => {
    const id = param(req, 0);
    ctx.webhooks.remove(id).then(
      () => x.ok('null'),
      (e: unknown) => x.error(e),
    );
  });

  // the whole body becomes the job's data; the shard answers the full job
  byQueue(ctx, 'post', '/webhooks/incoming/:queue', { cmd: 'PUSH', body: true, incoming: true });
}
