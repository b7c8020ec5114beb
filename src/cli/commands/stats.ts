import { pairs, printJson } from '../output.js';
import { withClient, wantsJson, type Command } from './context.js';

export const stats: Command = {
  summary: 'server totals (STATS and METRICS)',
  usage: 'stats',
  async run(args) {
    const { s, m } = await withClient(args, async (c) => {
      const [s, m] = await Promise.all([c.stats(), c.metrics()]);
      return { s, m };
    });
    if (wantsJson(args)) {
      printJson({ ...s, metrics: m });
      return 0;
    }
    process.stdout.write(
      pairs([
        ['queued', s.queued],
        ['processing', s.processing],
        ['delayed', s.delayed],
        ['dlq', s.dlq],
        ['total pushed', m.total_pushed],
        ['total completed', m.total_completed],
        ['total failed', m.total_failed],
        ['jobs/s', m.jobs_per_second],
        ['avg latency ms', m.avg_latency_ms],
        ['queues', m.queues.length],
      ]),
    );
    return 0;
  },
};
