/**
 * FlashqClient: one typed method per command of the TCP protocol, over one pipelined connection.
 * Calls may be issued concurrently without awaiting each other; they share the socket and leave in
 * one write per tick. An `ok:false` answer rejects with FlashqClientError carrying the server's text.
 */
import { Connection, type ConnectionOptions, type RequestOptions } from './connection.js';
import { FlashqClientError } from './errors.js';
import type {
  Answer,
  BatchJob,
  Command,
  CronInfo,
  CronOptions,
  Job,
  JobProgress,
  JobState,
  JobWithState,
  Metrics,
  PullOptions,
  PushOptions,
  QueueInfo,
  Stats,
} from './types.js';

export type ClientOptions = ConnectionOptions;

function check(a: Answer, cmd: string): Answer {
  if (!a.ok) throw new FlashqClientError(typeof a.error === 'string' ? a.error : 'request refused', cmd);
  return a;
}

export class FlashqClient {
  /** The underlying connection: its events are 'connect', 'reconnect', 'reconnecting', 'disconnect', 'error', 'close'. */
  readonly connection: Connection;
  private readonly defaultTimeoutMs: number;

  constructor(options: ClientOptions = {}) {
    this.connection = new Connection(options);
    this.defaultTimeoutMs = options.timeoutMs ?? 0;
  }

  /** Connect (and AUTH when a token is configured). Calls made before it queue until connected. */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  /** Let issued requests finish (up to closeTimeoutMs), then close the socket. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Send any command object; resolves with the raw answer, `ok:false` included. */
  send(cmd: Command, options?: RequestOptions): Promise<Answer> {
    return this.connection.request(cmd, options);
  }

  private call(cmd: Command, options?: RequestOptions): Promise<Answer> {
    return this.connection.request(cmd, options).then((a) => check(a, cmd.cmd));
  }

  /**
   * A pull may wait on the server: its own wait plus the usual allowance bounds the request, and a
   * pull without a wait bound has no request timeout either.
   */
  private pullRequestOptions(timeout: number | undefined): RequestOptions {
    if (timeout === undefined) return { timeoutMs: 0, blocking: true };
    return { timeoutMs: this.defaultTimeoutMs > 0 ? this.defaultTimeoutMs + timeout : 0, blocking: timeout > 0 };
  }

  // ---- jobs ----

  async push<T = unknown>(queue: string, data: T, options?: PushOptions): Promise<number> {
    const a = await this.call({ ...options, cmd: 'PUSH', queue, data });
    return a.id as number;
  }

  /** Ids in input order. */
  async pushBatch<T = unknown>(queue: string, jobs: BatchJob<T>[]): Promise<number[]> {
    const a = await this.call({ cmd: 'PUSHB', queue, jobs });
    return a.ids as number[];
  }

  /** The next job, waiting for one; `null` only when `timeout` elapsed. */
  async pull<T = unknown>(queue: string, options?: PullOptions): Promise<Job<T> | null> {
    const timeout = options?.timeout;
    const cmd: Command = timeout === undefined ? { cmd: 'PULL', queue } : { cmd: 'PULL', queue, timeout };
    const a = await this.call(cmd, this.pullRequestOptions(timeout));
    return (a.job as Job<T> | null) ?? null;
  }

  /** Up to `count` jobs (1..1000), as soon as at least one is ready; `[]` when `timeout` elapsed. */
  async pullBatch<T = unknown>(queue: string, count: number, options?: PullOptions): Promise<Job<T>[]> {
    const timeout = options?.timeout;
    const cmd: Command = timeout === undefined ? { cmd: 'PULLB', queue, count } : { cmd: 'PULLB', queue, count, timeout };
    const a = await this.call(cmd, this.pullRequestOptions(timeout));
    return a.jobs as Job<T>[];
  }

  async ack(id: number, result?: unknown): Promise<void> {
    await this.call(result === undefined ? { cmd: 'ACK', id } : { cmd: 'ACK', id, result });
  }

  /** Resolves with the number of jobs acknowledged. */
  async ackBatch(ids: number[]): Promise<number> {
    const a = await this.call({ cmd: 'ACKB', ids });
    return (a.ids as number[])[0] ?? 0;
  }

  /** Retry after back-off, or the DLQ once max_attempts deliveries are spent. */
  async fail(id: number, error?: string): Promise<void> {
    await this.call(error === undefined ? { cmd: 'FAIL', id } : { cmd: 'FAIL', id, error });
  }

  async cancel(id: number): Promise<void> {
    await this.call({ cmd: 'CANCEL', id });
  }

  /** For an active job: 0..100 (the server clamps), with an optional message. */
  async progress(id: number, progress: number, message?: string): Promise<void> {
    await this.call(message === undefined ? { cmd: 'PROGRESS', id, progress } : { cmd: 'PROGRESS', id, progress, message });
  }

  async getProgress(id: number): Promise<JobProgress> {
    const a = await this.call({ cmd: 'GETPROGRESS', id });
    return a.progress as JobProgress;
  }

  async getJob<T = unknown>(id: number): Promise<JobWithState<T>> {
    const a = await this.call({ cmd: 'GETJOB', id });
    return { job: (a.job as Job<T> | null) ?? null, state: a.state as JobState };
  }

  /** `'unknown'` for ids the server does not know (or no longer retains). */
  async getState(id: number): Promise<JobState> {
    const a = await this.call({ cmd: 'GETSTATE', id });
    return a.state as JobState;
  }

  /** The value the job was acknowledged with, or null. */
  async getResult<R = unknown>(id: number): Promise<R | null> {
    const a = await this.call({ cmd: 'GETRESULT', id });
    return (a.result as R | null) ?? null;
  }

  // ---- dead letter queue ----

  /** Oldest first; the server's default count is 100. */
  async dlq<T = unknown>(queue: string, count?: number): Promise<Job<T>[]> {
    const a = await this.call(count === undefined ? { cmd: 'DLQ', queue } : { cmd: 'DLQ', queue, count });
    return a.jobs as Job<T>[];
  }

  /** Retries one job of the DLQ, or all of them; resolves with the number retried. */
  async retryDlq(queue: string, id?: number): Promise<number> {
    const a = await this.call(id === undefined ? { cmd: 'RETRYDLQ', queue } : { cmd: 'RETRYDLQ', queue, id });
    return (a.ids as number[])[0] ?? 0;
  }

  // ---- queue control ----

  /** At most `limit` deliveries per second (token bucket). */
  async rateLimit(queue: string, limit: number): Promise<void> {
    await this.call({ cmd: 'RATELIMIT', queue, limit });
  }

  async rateLimitClear(queue: string): Promise<void> {
    await this.call({ cmd: 'RATELIMITCLEAR', queue });
  }

  /** At most `limit` active jobs of the queue across all workers. */
  async setConcurrency(queue: string, limit: number): Promise<void> {
    await this.call({ cmd: 'SETCONCURRENCY', queue, limit });
  }

  async clearConcurrency(queue: string): Promise<void> {
    await this.call({ cmd: 'CLEARCONCURRENCY', queue });
  }

  /** Stops deliveries; pushes are still accepted. */
  async pause(queue: string): Promise<void> {
    await this.call({ cmd: 'PAUSE', queue });
  }

  async resume(queue: string): Promise<void> {
    await this.call({ cmd: 'RESUME', queue });
  }

  async listQueues(): Promise<QueueInfo[]> {
    const a = await this.call({ cmd: 'LISTQUEUES' });
    return a.queues as QueueInfo[];
  }

  // ---- cron ----

  async cron<T = unknown>(name: string, options: CronOptions<T>): Promise<void> {
    await this.call({ ...options, cmd: 'CRON', name });
  }

  async cronDelete(name: string): Promise<void> {
    await this.call({ cmd: 'CRONDELETE', name });
  }

  async cronList(): Promise<CronInfo[]> {
    const a = await this.call({ cmd: 'CRONLIST' });
    return a.crons as CronInfo[];
  }

  // ---- server ----

  async stats(): Promise<Stats> {
    const a = await this.call({ cmd: 'STATS' });
    return { queued: a.queued as number, processing: a.processing as number, delayed: a.delayed as number, dlq: a.dlq as number };
  }

  async metrics(): Promise<Metrics> {
    const a = await this.call({ cmd: 'METRICS' });
    return a.metrics as Metrics;
  }

  /** Authenticate this connection; on success the token is re-sent after every reconnect. */
  async auth(token: string): Promise<void> {
    await this.call({ cmd: 'AUTH', token });
    this.connection.setToken(token);
  }
}
