import type { Job } from './job.js';
import { ReadyQueue } from './ready-queue.js';
import type { TokenBucket } from './rate-limit.js';
import type { QueueInfo, QueueSettings } from './types.js';

/** One queue's state. Every count is maintained by the engine's transitions, never recounted. */
export class Queue {
  readonly ready = new ReadyQueue<Job>();
  /** ready jobs (== ready.size) */
  waiting = 0;
  delayed = 0;
  /** jobs in waiting-children */
  children = 0;
  active = 0;
  /** failed jobs still retained, oldest first */
  readonly dlq = new Set<Job>();
  /** jobs referencing this queue, live or retained: the queue is forgotten only at 0 */
  jobs = 0;
  /** unique key → the job holding it */
  keys: Map<string, Job> | null = null;
  paused = false;
  rate: TokenBucket | null = null;
  /** 0 = unlimited */
  concurrency = 0;
  /** crons pushing into this queue */
  crons = 0;
  /** already listed in this turn's wake effects */
  woken = false;

  constructor(
    readonly name: string,
    readonly partition: number,
  ) {}

  /** Nothing to remember: no jobs, default settings, no crons. */
  isIdle(): boolean {
    return this.jobs === 0 && !this.paused && this.rate === null && this.concurrency === 0 && this.crons === 0;
  }

  /** Whether a pull could deliver now, ignoring the rate limit. */
  canDeliver(): boolean {
    return this.waiting > 0 && !this.paused && (this.concurrency === 0 || this.active < this.concurrency);
  }

  info(): QueueInfo {
    return {
      name: this.name,
      pending: this.waiting + this.delayed + this.children,
      waiting: this.waiting,
      delayed: this.delayed,
      waitingChildren: this.children,
      processing: this.active,
      dlq: this.dlq.size,
      paused: this.paused,
      rateLimit: this.rate === null ? null : this.rate.rate,
      concurrencyLimit: this.concurrency === 0 ? null : this.concurrency,
    };
  }

  settings(): QueueSettings {
    return {
      name: this.name,
      paused: this.paused,
      rateLimit: this.rate === null ? null : this.rate.rate,
      concurrencyLimit: this.concurrency === 0 ? null : this.concurrency,
    };
  }
}
