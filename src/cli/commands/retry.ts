import { positional, UsageError } from '../args.js';
import { printJson } from '../output.js';
import { withClient, wantsJson, type Command } from './context.js';

export const retry: Command = {
  summary: 'move dead-lettered jobs back to their queue',
  usage: 'retry <queue> [job-id]   (all of the queue\'s DLQ without an id)',
  async run(args) {
    const queue = positional(args, 0, 'queue');
    const idArg = args.positionals[1];
    const id = idArg === undefined ? undefined : Number(idArg);
    if (id !== undefined && (!Number.isSafeInteger(id) || id <= 0)) throw new UsageError(`not a job id: ${idArg}`);
    const n = await withClient(args, (c) => c.retryDlq(queue, id));
    if (wantsJson(args)) printJson({ queue, retried: n });
    else process.stdout.write(`retried ${n} job(s) of ${queue}\n`);
    return 0;
  },
};
