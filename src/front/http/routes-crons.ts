import { Format } from '../../protocol/result.js';
import { JsonWalk, keyBytes, MEMBER_ABSENT, MEMBER_UNSURE, skipWs } from '../../protocol/json-walk.js';
import { contentLength, JOB_BODY_LIMIT, readBody } from './body.js';
import { answerFanout, param, route, type HttpContext } from './context.js';
import { wrap, wrapNoBody, wrapperHead } from './wrapper.js';

const QUEUE = keyBytes('queue');

/** Cron jobs: created on their queue's shard (which fires them), listed and deleted everywhere. */
export function cronRoutes(ctx: HttpContext): void {
  const walk = new JsonWalk();
  route(ctx, 'get', '/crons', (x) => answerFanout(ctx, x, { cmd: 'CRONLIST' }));

  route(ctx, 'post', '/crons/:name', (x, req) => {
    const name = param(req, 0);
    const head = wrapperHead({ cmd: 'CRON', name });
    readBody(x, contentLength(req), JOB_BODY_LIMIT, (body) => {
      const { fanout, router } = ctx.front;
      const queue = queueOf(walk, body);
      const target = queue === null ? 0 : router.shardOfQueue(queue);
      fanout.cronCreate(target, Format.Http, wrap(head, body), name, queue).then(
        ({ code, bytes }) => x.answer(code, bytes),
        (e: unknown) => x.error(e),
      );
    });
  });

  route(ctx, 'del', '/crons/:name', (x, req) => {
    const name = param(req, 0);
    ctx.front.fanout.cronDelete(wrapNoBody({ cmd: 'CRONDELETE', name }), Format.Http).then(
      ({ code, bytes }) => x.answer(code, bytes),
      (e: unknown) => x.error(e),
    );
  });
}

/**
 * The `queue` member of a cron body, read without parsing the rest (the cron's data is a payload).
 * null sends the request to shard 0, which words the validation error.
 */
function queueOf(walk: JsonWalk, body: Buffer): string | null {
  const start = skipWs(body, 0, body.length);
  const vs = walk.findMember(body, start, body.length, QUEUE);
  if (vs === MEMBER_UNSURE) {
    // the key was written with escapes: a cron body is small and rare enough to parse whole
    try {
      const v = JSON.parse(body.toString('utf8')) as { queue?: unknown };
      return typeof v.queue === 'string' ? v.queue : null;
    } catch {
      return null;
    }
  }
  if (vs < 0 || vs === MEMBER_ABSENT) return null;
  try {
    const v: unknown = JSON.parse(body.toString('utf8', vs, walk.valueEnd));
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
