import { QueueEvents, type JobEvent } from '../../client/index.js';
import { int, str, target } from '../args.js';
import { dim, paint } from '../output.js';
import { payload } from './jobs-view.js';
import { wantsJson, type Command } from './context.js';

const COLORS: Record<string, number> = { 'job.pushed': 36, 'job.started': 33, 'job.completed': 32, 'job.failed': 31, 'job.progress': 35 };

function line(e: JobEvent): string {
  const time = new Date(e.timestamp).toISOString().slice(11, 23);
  const what = paint(e.event_type.slice(4).padEnd(9), COLORS[e.event_type] ?? 39);
  const extra =
    e.event_type === 'job.failed' ? (e.error ?? '') : e.event_type === 'job.progress' ? `${e.progress ?? ''}%` : e.data !== undefined && e.data !== null ? payload(e.data, 60) : '';
  return `${dim(time)} ${what} ${e.queue} #${e.job_id} ${extra}`.trimEnd() + '\n';
}

export const tail: Command = {
  summary: 'follow job events live (WebSocket) until Ctrl-C',
  usage: 'tail [queue] [--events pushed,completed,…] [--limit N]   (uses --http-port)',
  async run(args) {
    const queue = args.positionals[0] ?? null;
    const only = str(args, 'events')?.split(',').map((e) => (e.startsWith('job.') ? e : `job.${e}`));
    const limit = int(args, 'limit', 0, 0);
    const json = wantsJson(args);
    const t = target(args);
    const events = new QueueEvents(queue, { host: t.host, httpPort: t.httpPort, token: t.token, tls: t.tls });
    let seen = 0;
    // failures of the first connect reject waitUntilReady; later drops reconnect by themselves
    events.on('error', () => {});
    await events.waitUntilReady();
    process.stderr.write(dim(`following ${queue ?? 'every queue'} on ${t.host}:${t.httpPort} (Ctrl-C to stop)\n`, process.stderr.isTTY));
    return new Promise<number>((resolve) => {
      let stopped = false;
      const stop = (code: number) => {
        if (stopped) return;
        stopped = true;
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        void events.close().then(() => {
          if (!json) process.stderr.write(dim(`\n${seen} event(s)\n`, process.stderr.isTTY));
          resolve(code);
        });
      };
      const onSigint = () => stop(0);
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      events.on('close', () => process.stderr.write(dim('connection lost; reconnecting…\n', process.stderr.isTTY)));
      events.on('event', (e: JobEvent) => {
        if (stopped || (only && !only.includes(e.event_type))) return;
        seen++;
        process.stdout.write(json ? JSON.stringify(e) + '\n' : line(e));
        if (limit > 0 && seen >= limit) stop(0);
      });
    });
  },
};
