import { int, positional } from '../args.js';
import { printJson } from '../output.js';
import { jobTable } from './jobs-view.js';
import { withClient, wantsJson, type Command } from './context.js';

export const dlq: Command = {
  summary: "list a queue's dead letter queue",
  usage: 'dlq <queue> [--count 100]',
  async run(args) {
    const queue = positional(args, 0, 'queue');
    const count = int(args, 'count', 100, 1, 1000);
    const jobs = await withClient(args, (c) => c.dlq(queue, count));
    if (wantsJson(args)) printJson(jobs);
    else process.stdout.write(jobTable(jobs));
    return 0;
  },
};
