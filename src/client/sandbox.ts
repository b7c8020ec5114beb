/**
 * A piscina thread pool running a processor module for a Worker: CPU-bound handlers run off the
 * worker's event loop, and a handler that throws, exits its thread or leaves an uncaught error
 * rejects its own job only (piscina replaces a thread that died).
 *
 * The processor is a module whose default export is the handler: `export default async (job) => …`.
 * It sees the job as pulled, with `updateProgress(progress, message?)`; its return value must be
 * structured-cloneable (it becomes the job's result).
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ProgressReport, SandboxTask } from './sandbox-thread.js';
import type { Job } from './types.js';

const THREAD_FILE = new URL('./sandbox-thread.js', import.meta.url);

/** A path (relative to the current directory), a file URL string, or a URL. */
export type ProcessorRef = string | URL;

export function processorUrl(ref: ProcessorRef): string {
  if (ref instanceof URL) return ref.href;
  if (ref.startsWith('file:')) return ref;
  return pathToFileURL(isAbsolute(ref) ? ref : resolve(process.cwd(), ref)).href;
}

export class Sandbox {
  private readonly pool: Piscina;
  private readonly processor: string;
  private readonly channelName = `flashq-progress-${randomUUID()}`;
  private readonly channel: BroadcastChannel;

  constructor(processor: ProcessorRef, threads: number, onProgress: (r: ProgressReport) => void) {
    this.processor = processorUrl(processor);
    const n = Math.max(1, Math.floor(threads));
    this.pool = new Piscina({ filename: THREAD_FILE.href, minThreads: n, maxThreads: n, concurrentTasksPerWorker: 1 });
    this.channel = new BroadcastChannel(this.channelName);
    this.channel.onmessage = (ev: unknown) => onProgress((ev as { data: ProgressReport }).data);
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  /** Run the processor on a job (the fields the server sent, nothing else crosses). */
  run(job: Job): Promise<unknown> {
    const task: SandboxTask = { processor: this.processor, progress: this.channelName, job: plainJob(job) };
    return this.pool.run(task);
  }

  async close(): Promise<void> {
    this.channel.close();
    await this.pool.destroy();
  }
}

/** The wire fields of a job, without what the Worker attached to it (functions do not clone). */
function plainJob(j: Job): Job {
  return {
    id: j.id,
    queue: j.queue,
    data: j.data,
    priority: j.priority,
    created_at: j.created_at,
    run_at: j.run_at,
    started_at: j.started_at,
    attempts: j.attempts,
    max_attempts: j.max_attempts,
    backoff: j.backoff,
    ttl: j.ttl,
    timeout: j.timeout,
    unique_key: j.unique_key,
    depends_on: j.depends_on,
    progress: j.progress,
    progress_msg: j.progress_msg,
    tags: j.tags,
    lifo: j.lifo,
  };
}
