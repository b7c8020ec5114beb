/**
 * Queue: the producer's and operator's view of one queue. Each method is one flashQ command over
 * the pipelined TCP connection, except listing jobs, which only the HTTP API offers (`GET /jobs`).
 *
 *   add → PUSH · addBulk → PUSHB · getJob → GETJOB · getJobs → GET /jobs · counts → LISTQUEUES
 *   pause/resume → PAUSE/RESUME · getDlq → DLQ · retryDlq → RETRYDLQ
 *   drain/clean → GET /jobs (to find the jobs) then CANCEL per job
 *
 * The flashQ API has no command that deletes completed or failed jobs (the server bounds them with
 * its KEEP_COMPLETED retention), so clean removes only jobs that can still be cancelled.
 */
import { FlashqClient, type ClientOptions } from './client.js';
import { FlashqClientError } from './errors.js';
import { HttpApi } from './http.js';
import type { BatchJob, Job, JobState, JobWithState, PushOptions } from './types.js';

export interface QueueOptions extends ClientOptions {
  /** HTTP port, for getJobs/drain/clean; default 6790 */
  httpPort?: number;
  /** HTTP base URL; overrides host and httpPort for those calls */
  httpUrl?: string;
  /** share an open client instead of opening a connection of the queue's own */
  client?: FlashqClient;
}

/** A job as the job browser returns it: the job plus its state (and result once completed). */
export type BrowsedJob<T = unknown> = Job<T> & { state: JobState; result?: unknown };

export interface QueueCounts {
  /** waiting, delayed and waiting-children jobs */
  pending: number;
  active: number;
  /** jobs in the dead letter queue */
  failed: number;
  paused: boolean;
}

/** States whose jobs can be removed (CANCEL). */
export type RemovableState = 'waiting' | 'delayed' | 'waiting-children';
const REMOVABLE: readonly string[] = ['waiting', 'delayed', 'waiting-children'];

/** The job browser's page size limit (compat.md: `limit` ≤ 1000). */
const PAGE = 1000;

export class Queue<T = unknown> {
  readonly name: string;
  readonly client: FlashqClient;
  private readonly http: HttpApi;
  private readonly ownsClient: boolean;

  constructor(name: string, options: QueueOptions = {}) {
    this.name = name;
    const { client, httpPort, httpUrl, ...conn } = options;
    this.ownsClient = client === undefined;
    this.client = client ?? new FlashqClient(conn);
    this.http = new HttpApi({ httpUrl, httpPort, host: conn.host, token: conn.token, tls: conn.tls });
  }

  /** Push one job; resolves with its id. */
  add(data: T, options?: PushOptions): Promise<number> {
    return this.client.push(this.name, data, options);
  }

  /** Push many jobs; batches of up to `batchSize` (default 1000) leave pipelined. Ids in input order. */
  async addBulk(jobs: BatchJob<T>[], batchSize = PAGE): Promise<number[]> {
    const parts: Promise<number[]>[] = [];
    for (let i = 0; i < jobs.length; i += batchSize) parts.push(this.client.pushBatch(this.name, jobs.slice(i, i + batchSize)));
    return (await Promise.all(parts)).flat();
  }

  /** The job and its state; `{ job: null, state: 'unknown' }` for an id the server does not hold. */
  getJob(id: number): Promise<JobWithState<T>> {
    return this.client.getJob<T>(id);
  }

  /** Jobs of this queue, newest first, optionally of one state (the HTTP job browser). */
  getJobs(options: { state?: JobState; limit?: number; offset?: number } = {}): Promise<BrowsedJob<T>[]> {
    return this.http.get<BrowsedJob<T>[]>('/jobs', { queue: this.name, state: options.state, limit: options.limit, offset: options.offset });
  }

  async counts(): Promise<QueueCounts> {
    const info = (await this.client.listQueues()).find((q) => q.name === this.name);
    if (!info) return { pending: 0, active: 0, failed: 0, paused: false };
    return { pending: info.pending, active: info.processing, failed: info.dlq, paused: info.paused };
  }

  /** Stop deliveries (pushes are still accepted). */
  pause(): Promise<void> {
    return this.client.pause(this.name);
  }

  resume(): Promise<void> {
    return this.client.resume(this.name);
  }

  /** Jobs of the dead letter queue, oldest first (server default count 100). */
  getDlq(count?: number): Promise<Job<T>[]> {
    return this.client.dlq<T>(this.name, count);
  }

  /** Retry one DLQ job, or all of them; resolves with how many went back to the queue. */
  retryDlq(id?: number): Promise<number> {
    return this.client.retryDlq(this.name, id);
  }

  /**
   * Remove every waiting and delayed job (and, with `children`, those waiting on parents).
   * Active jobs finish normally. Resolves with the number removed.
   */
  async drain(options: { children?: boolean } = {}): Promise<number> {
    const states: RemovableState[] = options.children ? ['waiting', 'delayed', 'waiting-children'] : ['waiting', 'delayed'];
    let removed = 0;
    for (const state of states) removed += await this.removeWhere(state, () => true, Infinity);
    return removed;
  }

  /**
   * Remove up to `limit` jobs of a removable state created more than `graceMs` ago. Completed and
   * failed jobs cannot be removed through the flashQ API (retention bounds them): asking for them
   * is an error. Resolves with the ids removed.
   */
  async clean(graceMs: number, limit = Infinity, state: RemovableState = 'waiting'): Promise<number[]> {
    if (!REMOVABLE.includes(state)) {
      throw new FlashqClientError(`cannot clean ${state} jobs: the flashQ API removes only ${REMOVABLE.join(', ')} jobs (completed and failed ones are bounded by the server's retention)`, 'CLEAN');
    }
    const before = Date.now() - graceMs;
    const ids: number[] = [];
    await this.removeWhere(state, (j) => j.created_at <= before, limit, ids);
    return ids;
  }

  /** Close the queue's connection (not a shared client). */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  /**
   * Page through the jobs of a state and cancel the matching ones. A job that moved on meanwhile
   * (pulled, completed) answers an error and is simply not counted. Pages restart at offset 0 since
   * cancelled jobs leave the listing; a page with nothing removable advances the offset.
   */
  private async removeWhere(state: RemovableState, match: (j: BrowsedJob<T>) => boolean, limit: number, out: number[] = []): Promise<number> {
    let removed = 0;
    let offset = 0;
    while (removed < limit) {
      const page = await this.getJobs({ state, limit: PAGE, offset });
      if (page.length === 0) break;
      const picked = page.filter(match).slice(0, limit - removed);
      const outcomes = await Promise.allSettled(picked.map((j) => this.client.cancel(j.id)));
      let n = 0;
      outcomes.forEach((o, i) => {
        if (o.status === 'fulfilled') {
          n++;
          out.push(picked[i]!.id);
        }
      });
      removed += n;
      if (n === 0) {
        if (page.length < PAGE) break;
        offset += page.length;
      } else {
        offset += page.length - n;
      }
    }
    return removed;
  }
}
