import { answerFanout, route, type HttpContext } from './context.js';
import { byQueue } from './shard-routes.js';

/** Queue operations (API document "Queue Operations"). */
export function queueRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/queues', (x) => answerFanout(ctx, x, { cmd: 'LISTQUEUES' }));
  byQueue(ctx, 'post', '/queues/:queue/jobs', { cmd: 'PUSH', body: true });
  // count (1) and timeout ms (0 = answer at once, [] when empty) are read by the shard
  byQueue(ctx, 'get', '/queues/:queue/jobs', { cmd: 'PULLB', query: ['count', 'timeout'], blocking: true });
  byQueue(ctx, 'post', '/queues/:queue/pause', { cmd: 'PAUSE' });
  byQueue(ctx, 'post', '/queues/:queue/resume', { cmd: 'RESUME' });
  byQueue(ctx, 'get', '/queues/:queue/dlq', { cmd: 'DLQ', query: ['count'] });
  byQueue(ctx, 'post', '/queues/:queue/dlq/retry', { cmd: 'RETRYDLQ', query: ['id'] });
  byQueue(ctx, 'post', '/queues/:queue/rate-limit', { cmd: 'RATELIMIT', body: true });
  byQueue(ctx, 'del', '/queues/:queue/rate-limit', { cmd: 'RATELIMITCLEAR' });
  byQueue(ctx, 'post', '/queues/:queue/concurrency', { cmd: 'SETCONCURRENCY', body: true });
  byQueue(ctx, 'del', '/queues/:queue/concurrency', { cmd: 'CLEARCONCURRENCY' });
}
