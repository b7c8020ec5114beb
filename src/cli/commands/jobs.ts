import { Queue, type JobState } from '../../client/index.js';
import { HttpApi } from '../../client/http.js';
import { int, str, UsageError } from '../args.js';
import { pairs, printJson } from '../output.js';
import { jobTable, payload } from './jobs-view.js';
import { withClient, wantsJson, type Command } from './context.js';

export const jobs: Command = {
  summary: 'browse jobs (HTTP job browser), or show one job',
  usage: 'jobs [--queue q] [--state waiting|delayed|active|completed|failed|waiting-children] [--limit 20] [--offset 0]\n  jobs <id>',
  async run(args) {
    const json = wantsJson(args);
    const idArg = args.positionals[0];
    if (idArg !== undefined) {
      const id = Number(idArg);
      if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError(`not a job id: ${idArg}`);
      const { job, state, result } = await withClient(args, async (c) => {
        const [js, result] = await Promise.all([c.getJob(id), c.getResult(id)]);
        return { ...js, result };
      });
      if (json) printJson({ job, state, result });
      else if (job === null) process.stdout.write(`job ${id}: ${state}\n`);
      else {
        process.stdout.write(
          pairs([
            ['id', job.id], ['queue', job.queue], ['state', state], ['data', payload(job.data, 200)], ['priority', job.priority],
            ['attempts', `${job.attempts}/${job.max_attempts}`], ['created', new Date(job.created_at).toISOString()],
            ['run at', new Date(job.run_at).toISOString()], ['progress', job.progress], ['tags', job.tags.join(',') || '-'], ['result', result],
          ]),
        );
      }
      return 0;
    }
    const queue = str(args, 'queue');
    const state = str(args, 'state') as JobState | undefined;
    const limit = int(args, 'limit', 20, 1, 1000);
    const offset = int(args, 'offset', 0, 0);
    const list = await withClient(args, async (client, t) => {
      if (queue !== undefined) return new Queue(queue, { client, host: t.host, httpPort: t.httpPort, token: t.token, tls: t.tls }).getJobs({ state, limit, offset });
      const http = new HttpApi({ host: t.host, httpPort: t.httpPort, token: t.token, tls: t.tls });
      return http.get<Parameters<typeof jobTable>[0]>('/jobs', { state, limit, offset });
    });
    if (json) printJson(list);
    else process.stdout.write(jobTable(list, true));
    return 0;
  },
};
