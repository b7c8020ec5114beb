import { int, positional, str, type Args } from '../args.js';
import { printJson } from '../output.js';
import { jobTable } from './jobs-view.js';
import { withClient, wantsJson, type Command } from './context.js';

export const pull: Command = {
  summary: 'pull jobs and acknowledge them (or fail them with --fail)',
  usage:
    'pull <queue> [--count 1] [--timeout ms] [--fail "reason"]\n' +
    '  Takes up to --count jobs (waiting up to --timeout ms, default 0: only ready jobs) and acknowledges\n' +
    '  them, or fails them with the reason (the server then retries or dead-letters them).',
  async run(args: Args) {
    const queue = positional(args, 0, 'queue');
    const count = int(args, 'count', 1, 1, 1000);
    const timeout = int(args, 'timeout', 0, 0);
    const failWith = str(args, 'fail');
    const jobs = await withClient(args, async (c) => {
      const got = await c.pullBatch(queue, count, { timeout });
      if (got.length === 0) return got;
      if (failWith !== undefined) await Promise.all(got.map((j) => c.fail(j.id, failWith)));
      else await c.ackBatch(got.map((j) => j.id));
      return got;
    });
    if (wantsJson(args)) printJson(jobs);
    else if (jobs.length === 0) process.stdout.write(`no job ready in ${queue}\n`);
    else process.stdout.write(jobTable(jobs) + `${failWith !== undefined ? 'failed' : 'acknowledged'} ${jobs.length} job(s)\n`);
    return 0;
  },
};
