/**
 * The piscina thread of a sandboxed Worker: imports the processor module once per thread and runs
 * its default export on each job it is given. Progress reports go back on a BroadcastChannel shared
 * by the whole pool (one per Worker), so a job costs no channel of its own.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { Job } from './types.js';

export interface SandboxTask {
  /** file URL of the processor module */
  processor: string;
  /** the BroadcastChannel name progress reports go to */
  progress: string;
  job: Job;
}

export interface ProgressReport {
  id: number;
  progress: number;
  message?: string;
}

type Processor = (job: Job & { updateProgress(progress: number, message?: string): Promise<void> }) => unknown;

const processors = new Map<string, Promise<Processor>>();
const channels = new Map<string, BroadcastChannel>();

function load(url: string): Promise<Processor> {
  let p = processors.get(url);
  if (!p) {
    p = import(url).then((mod: { default?: unknown }) => {
      const fn = mod.default;
      if (typeof fn !== 'function') throw new Error(`processor ${url} has no default export function`);
      return fn as Processor;
    });
    processors.set(url, p);
  }
  return p;
}

function channel(name: string): BroadcastChannel {
  let c = channels.get(name);
  if (!c) {
    c = new BroadcastChannel(name);
    // the channel must not keep the thread alive when the pool lets it go
    (c as unknown as { unref(): void }).unref();
    channels.set(name, c);
  }
  return c;
}

export default async function run(task: SandboxTask): Promise<unknown> {
  const fn = await load(task.processor);
  const job = task.job as Job & { updateProgress(progress: number, message?: string): Promise<void> };
  job.updateProgress = async (progress: number, message?: string) => {
    const report: ProgressReport = message === undefined ? { id: job.id, progress } : { id: job.id, progress, message };
    channel(task.progress).postMessage(report);
  };
  return fn(job);
}
