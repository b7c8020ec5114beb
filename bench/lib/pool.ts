/**
 * Runs a load function in several worker threads at once, so on a machine with cores to spare the
 * load generator is not the bottleneck. Each thread connects, then waits at a barrier; all start
 * together and report their own measured window, so thread start-up is never timed.
 *
 * A load function is an export of a module under bench/, called as `fn(params, ready)`; it must
 * `await ready()` after connecting and before its clock starts, and return a structured-clonable
 * result (typed arrays are transferred by copy, which is cheap next to the run).
 */
import { Worker } from 'node:worker_threads';

export type Ready = () => Promise<void>;
export type LoadFn<P, R> = (params: P, ready: Ready) => Promise<R>;

interface FromThread {
  kind: 'ready' | 'done' | 'error';
  result?: unknown;
  error?: string;
}

/**
 * One thread per element of `params`, running `moduleUrl`'s export `fn`. Rejects on the first
 * thread error or after `timeoutMs`, terminating every thread.
 */
export function parallel<P, R>(moduleUrl: string, fn: string, params: P[], timeoutMs: number): Promise<R[]> {
  const entry = new URL('./load-thread.js', import.meta.url);
  const threads = params.map((p) => new Worker(entry, { workerData: { moduleUrl, fn, params: p } }));
  const results: R[] = new Array(params.length);
  let ready = 0;
  let done = 0;
  return new Promise<R[]>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const t of threads) void t.terminate();
      if (err) reject(err);
      else resolve(results);
    };
    const timer = setTimeout(() => finish(new Error(`${fn}: load did not finish in ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    threads.forEach((t, i) => {
      t.on('message', (m: FromThread) => {
        if (m.kind === 'ready') {
          if (++ready === threads.length) for (const x of threads) x.postMessage('go');
        } else if (m.kind === 'done') {
          results[i] = m.result as R;
          if (++done === threads.length) finish(null);
        } else {
          finish(new Error(m.error ?? `${fn} failed`));
        }
      });
      t.on('error', (e) => finish(e));
      t.on('exit', (code) => {
        if (!settled && results[i] === undefined) finish(new Error(`${fn}: load thread exited with ${code}`));
      });
    });
  });
}
