import { Queue } from '../../client/index.js';
import { bool, positional, UsageError } from '../args.js';
import { printJson, table } from '../output.js';
import { withClient, wantsJson, type Command } from './context.js';

export const queues: Command = {
  summary: 'list queues; pause, resume or drain one',
  usage: 'queues [list] | queues pause <queue> | queues resume <queue> | queues drain <queue> [--children]',
  async run(args) {
    const action = args.positionals[0] ?? 'list';
    const json = wantsJson(args);
    if (action === 'list') {
      const list = await withClient(args, (c) => c.listQueues());
      if (json) printJson(list);
      else {
        process.stdout.write(
          table(
            ['queue', 'pending', 'active', 'dlq', 'paused', 'rate limit', 'concurrency'],
            list.map((q) => [q.name, q.pending, q.processing, q.dlq, q.paused ? 'yes' : 'no', q.rate_limit, q.concurrency_limit]),
          ),
        );
      }
      return 0;
    }
    if (action !== 'pause' && action !== 'resume' && action !== 'drain') throw new UsageError(`unknown queues action: ${action}`);
    const name = positional(args, 1, 'queue');
    const out = await withClient(args, async (client, t) => {
      const q = new Queue(name, { client, host: t.host, httpPort: t.httpPort, token: t.token, tls: t.tls });
      if (action === 'pause') await q.pause();
      else if (action === 'resume') await q.resume();
      else return q.drain({ children: bool(args, 'children') });
      return null;
    });
    if (json) printJson(action === 'drain' ? { queue: name, removed: out } : { queue: name, [action === 'pause' ? 'paused' : 'resumed']: true });
    else process.stdout.write(action === 'drain' ? `removed ${out} job(s) from ${name}\n` : `${name} ${action === 'pause' ? 'paused' : 'resumed'}\n`);
    return 0;
  },
};
