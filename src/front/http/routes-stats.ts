import type { Request } from '../../protocol/request.js';
import { answerFanout, route, type HttpContext } from './context.js';

const METRICS: Request = { cmd: 'METRICS' };
const STATS: Request = { cmd: 'STATS' };

/** Stats & metrics: merged from every shard at request time. */
export function statsRoutes(ctx: HttpContext): void {
  route(ctx, 'get', '/stats', (x) => answerFanout(ctx, x, STATS));

  route(ctx, 'get', '/metrics', (x) => answerFanout(ctx, x, METRICS));

  // the last 60 samples, 5 s apart (server.history is fed by the server's sampler)
  route(ctx, 'get', '/metrics/history', (x) => x.ok(JSON.stringify(ctx.front.history.points)));

  route(ctx, 'get', '/metrics/prometheus', (x) => {
    const { fanout, history } = ctx.front;
    Promise.all([fanout.result(METRICS), fanout.result(STATS)])
      .then(([m, s]) => {
        if (m.kind !== 'metrics' || s.kind !== 'stats') throw new Error('unexpected fan-out result');
        return ctx.prom.render({
          counters: m.counters,
          stats: s.stats,
          queues: m.queues,
          jobsPerSecond: m.jobsPerSecond,
          latency: history.latency,
          events: ctx.bus.stats,
          connections: ctx.inflight.limit?.count ?? 0,
          cluster: ctx.front.server.cluster?.metrics() ?? null,
        });
      })
      .then(
        (text) => x.send(200, text, ctx.prom.contentType),
        (e: unknown) => x.error(e),
      );
  });
}
