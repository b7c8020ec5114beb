/** Entry of a load thread (bench/lib/pool.ts): import the load module, run its function, report. */
import { parentPort, workerData } from 'node:worker_threads';

interface Data {
  moduleUrl: string;
  fn: string;
  params: unknown;
}

const { moduleUrl, fn, params } = workerData as Data;
const port = parentPort!;

function ready(): Promise<void> {
  return new Promise((res) => {
    port.once('message', () => res());
    port.postMessage({ kind: 'ready' });
  });
}

try {
  const mod = (await import(moduleUrl)) as Record<string, (p: unknown, r: () => Promise<void>) => Promise<unknown>>;
  const f = mod[fn];
  if (typeof f !== 'function') throw new Error(`${moduleUrl} has no export ${fn}`);
  const result = await f(params, ready);
  port.postMessage({ kind: 'done', result });
} catch (e) {
  const err = e as Error;
  port.postMessage({ kind: 'error', error: `${err.name}: ${err.message}` });
}
// the load's sockets may linger; the parent terminates the thread once it has the result
