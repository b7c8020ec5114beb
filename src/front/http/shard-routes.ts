import type { HttpRequest } from 'uWebSockets.js';
import { contentLength, JOB_BODY_LIMIT, readBody } from './body.js';
import { idParam, param, queryOf, route, type HttpContext, type Method } from './context.js';
import type { Exchange } from './exchange.js';
import { wrap, wrapperHead, type WrapperFields } from './wrapper.js';

/** How a route that one shard answers builds its wrapper. */
export interface ShardRoute {
  cmd: string;
  /** query parameters passed through as strings (the shard validates them) */
  query?: readonly string[];
  /** the route reads a JSON body (bounded by the job body limit) */
  body?: boolean;
  /** a blocking pull: the shard is told when the client goes away */
  blocking?: boolean;
  incoming?: boolean;
}

function send(x: Exchange, req: HttpRequest, shard: number, fields: WrapperFields, r: ShardRoute): void {
  if (r.query) {
    const q = queryOf(req, r.query);
    if (q !== undefined) fields.query = q;
  }
  if (r.incoming) fields.incoming = true;
  const head = wrapperHead(fields);
  if (r.body) readBody(x, contentLength(req), JOB_BODY_LIMIT, (body) => x.ask(shard, wrap(head, body)));
  else x.ask(shard, wrap(head, null), r.blocking === true);
}

/** A route on `/…/:queue/…`: the queue's shard answers. The name is validated there. */
export function byQueue(ctx: HttpContext, method: Method, pattern: string, r: ShardRoute): void {
  route(ctx, method, pattern, (x, req) => {
    const queue = param(req, 0);
    send(x, req, ctx.front.router.shardOfQueue(queue), { cmd: r.cmd, queue }, r);
  });
}

/** A route on `/jobs/:id/…`: the id names its shard (ids encode their partition). */
export function byId(ctx: HttpContext, method: Method, pattern: string, r: ShardRoute): void {
  route(ctx, method, pattern, (x, req) => {
    const id = idParam(req, 0);
    send(x, req, ctx.front.router.shardOfId(id), { cmd: r.cmd, id }, r);
  });
}
