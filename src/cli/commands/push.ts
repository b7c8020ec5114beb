import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BatchJob, FlashqClient, PushOptions } from '../../client/index.js';
import { bool, int, jsonValue, positional, str, UsageError, type Args } from '../args.js';
import { Progress, printJson } from '../output.js';
import { withClient, wantsJson, type Command } from './context.js';

function pushOptions(args: Args): PushOptions {
  const o: PushOptions = {};
  const n = (flag: string, key: keyof PushOptions) => {
    const v = int(args, flag, undefined, flag === 'priority' ? -2147483648 : 0);
    if (v !== undefined) (o as Record<string, unknown>)[key] = v;
  };
  n('priority', 'priority');
  n('delay', 'delay');
  n('ttl', 'ttl');
  n('timeout', 'timeout');
  n('max-attempts', 'max_attempts');
  n('backoff', 'backoff');
  const key = str(args, 'unique-key');
  if (key !== undefined) o.unique_key = key;
  const tags = str(args, 'tags');
  if (tags !== undefined) o.tags = tags.split(',').filter(Boolean);
  const deps = str(args, 'depends-on');
  if (deps !== undefined) o.depends_on = deps.split(',').map((d) => Number(d));
  if (bool(args, 'lifo')) o.lifo = true;
  return o;
}

/** Sends batches with a few in flight, so a long push keeps the connection busy. */
async function pushAll(c: FlashqClient, queue: string, next: () => Promise<BatchJob[] | null>, total: number, quiet: boolean): Promise<number[]> {
  const bar = new Progress(`push ${queue}`, quiet ? 0 : total);
  const ids: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  const parts = new Map<number, number[]>();
  for (;;) {
    const jobs = await next();
    if (jobs === null) break;
    const k = seq++;
    const p: Promise<void> = c.pushBatch(queue, jobs).then((got) => {
      parts.set(k, got);
      bar.add(got.length);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  bar.finish();
  for (let k = 0; k < seq; k++) ids.push(...parts.get(k)!);
  return ids;
}

export const push: Command = {
  summary: 'push jobs',
  usage:
    'push <queue> [data-json] [--priority N --delay ms --ttl ms --timeout ms --max-attempts N --backoff ms\n' +
    '       --unique-key K --tags a,b --depends-on 1,2 --lifo] [--count N] [--file jobs.ndjson] [--batch 1000]\n' +
    '  One job by default; --count N pushes N copies, --file one job per line (its data). Prints the ids.',
  async run(args) {
    const queue = positional(args, 0, 'queue');
    const options = pushOptions(args);
    const file = str(args, 'file');
    const count = int(args, 'count', 1, 1);
    const batch = int(args, 'batch', 1000, 1, 1000);
    const json = wantsJson(args);
    if (file && args.positionals[1] !== undefined) throw new UsageError('give the data either as an argument or with --file, not both');
    const data = jsonValue(args.positionals[1] ?? '{}', 'data');
    const ids = await withClient(args, async (c) => {
      if (!file && count === 1) return [await c.push(queue, data, options)];
      if (!file) {
        let left = count;
        return pushAll(c, queue, async () => {
          if (left === 0) return null;
          const n = Math.min(batch, left);
          left -= n;
          return Array.from({ length: n }, () => ({ ...options, data }));
        }, count, json);
      }
      const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
      let lineNo = 0;
      return pushAll(c, queue, async () => {
        const jobs: BatchJob[] = [];
        while (jobs.length < batch) {
          const r = await lines.next();
          if (r.done) break;
          lineNo++;
          if (r.value.trim() === '') continue;
          jobs.push({ ...options, data: jsonValue(r.value, `line ${lineNo} of ${file}`) });
        }
        return jobs.length ? jobs : null;
      }, 0, json);
    });
    if (json) printJson({ queue, ids });
    else if (ids.length === 1) process.stdout.write(`pushed job ${ids[0]} to ${queue}\n`);
    else process.stdout.write(`pushed ${ids.length} jobs to ${queue} (ids ${ids[0]}…${ids[ids.length - 1]})\n`);
    return 0;
  },
};
