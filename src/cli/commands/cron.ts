import { int, jsonValue, positional, str, UsageError } from '../args.js';
import { ago, printJson, table } from '../output.js';
import { payload } from './jobs-view.js';
import { withClient, wantsJson, type Command } from './context.js';

export const cron: Command = {
  summary: 'list, add or remove cron jobs',
  usage: 'cron [list] | cron add <name> <schedule> --queue q [--data json] [--priority N] | cron rm <name>',
  async run(args) {
    const action = args.positionals[0] ?? 'list';
    const json = wantsJson(args);
    if (action === 'list') {
      const list = await withClient(args, (c) => c.cronList());
      if (json) printJson(list);
      else {
        const now = Date.now();
        process.stdout.write(table(['name', 'schedule', 'queue', 'pri', 'next run', 'data'], list.map((c) => [c.name, c.schedule, c.queue, c.priority, ago(c.next_run, now), payload(c.data)])));
      }
      return 0;
    }
    if (action === 'add') {
      const name = positional(args, 1, 'cron name');
      const schedule = positional(args, 2, 'schedule (quote it: "*/5 * * * * *")');
      const queue = str(args, 'queue');
      if (!queue) throw new UsageError('cron add needs --queue');
      const data = jsonValue(str(args, 'data') ?? '{}', '--data');
      const priority = int(args, 'priority', undefined, -2147483648);
      await withClient(args, (c) => c.cron(name, priority === undefined ? { queue, data, schedule } : { queue, data, schedule, priority }));
      if (json) printJson({ name, added: true });
      else process.stdout.write(`cron ${name} added: ${schedule} → ${queue}\n`);
      return 0;
    }
    if (action === 'rm' || action === 'remove' || action === 'delete') {
      const name = positional(args, 1, 'cron name');
      await withClient(args, (c) => c.cronDelete(name));
      if (json) printJson({ name, removed: true });
      else process.stdout.write(`cron ${name} removed\n`);
      return 0;
    }
    throw new UsageError(`unknown cron action: ${action}`);
  },
};
