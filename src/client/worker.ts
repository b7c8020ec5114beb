/**
 * Worker: pulls jobs of one queue in batches and runs a handler on each, at most `concurrency` at a
 * time, acknowledging successes in batches.
 *
 * Two connections: a PULLB that waits on the server holds its connection's answer order, so acks on
 * the same socket would queue behind it. The next batch is requested while handlers run (jobs
 * pulled ahead are bounded by batchSize), and the acks of everything that finished in one
 * event-loop turn leave as one ACKB.
 *
 * The handler is a function (run on this thread) or a processor module's path/URL, run in a
 * piscina thread pool of `threads` threads (sandbox.ts).
 *
 * Lease-aware: a job is leased to the pull connection. When that connection drops, the server fails
 * the leased jobs back, so the ones not yet started are dropped here rather than run on a lease
 * that is gone. A job with a `timeout` is skipped if its lease ran out before a handler was free,
 * and its handler's `ctx.signal` aborts when the lease runs out.
 */
import { EventEmitter } from 'node:events';
import { FlashqClient } from './client.js';
import type { ConnectionOptions } from './connection.js';
import { FlashqClientError, FlashqConnectionError } from './errors.js';
import { Fifo } from './fifo.js';
import { Sandbox, type ProcessorRef } from './sandbox.js';
import type { Job } from './types.js';

export interface WorkerOptions extends Omit<ConnectionOptions, 'reqIds'> {
  /** handlers running at once; default 10 */
  concurrency?: number;
  /** jobs asked per PULLB, and the most pulled ahead of the handlers; 1..1000, default min(1000, 2 × concurrency) */
  batchSize?: number;
  /** how long one PULLB waits on the server; bounds how long close() waits for it; default 1000 */
  pullTimeoutMs?: number;
  /** start pulling at once (connection failures are then 'error' events); default true */
  autoStart?: boolean;
  /** threads of the sandbox pool when the handler is a processor module; default 1 (concurrency defaults to it) */
  threads?: number;
}

export interface JobContext {
  readonly jobId: number;
  /** Report progress (0..100, optional message) of this job. */
  updateProgress(progress: number, message?: string): Promise<void>;
  /** Aborts when the job's lease ends (its `timeout` ran out, or the pull connection dropped). */
  readonly signal: AbortSignal;
}

export type WorkerJob<T = unknown> = Job<T> & {
  updateProgress(progress: number, message?: string): Promise<void>;
};

/** Why a pulled job was not run: its lease was gone before a handler was free. */
export type LeaseLoss = 'connection lost' | 'timed out';

/** Returning a value other than undefined stores it as the job's result; throwing fails the job. */
export type Handler<T = unknown, R = unknown> = (job: WorkerJob<T>, ctx: JobContext) => R | Promise<R>;

/** The most ids per ACKB the server accepts by default (compat.md, "Limits"). */
const MAX_BATCH = 1000;

const noop = () => {};

/** The pull connection's epoch a job was pulled in (a symbol: invisible to the job's JSON). */
const EPOCH = Symbol('flashq.leaseEpoch');
type Leased<T> = WorkerJob<T> & { [EPOCH]?: number };

export class Worker<T = unknown, R = unknown> extends EventEmitter {
  readonly queue: string;
  private readonly handler: Handler<T, R>;
  private readonly sandbox: Sandbox | null = null;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly pullTimeoutMs: number;
  private readonly puller: FlashqClient;
  private readonly acker: FlashqClient;
  /** pulled, not yet handed to a handler */
  private readonly buffer = new Fifo<WorkerJob<T>>(256);
  /** lease state of running jobs, only for those with a timeout or while the connection may drop */
  private readonly leases = new Map<number, AbortController>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** bumped when the pull connection drops: jobs pulled before it hold no lease */
  private epoch = 0;

  private active = 0;
  private running = false;
  private pullInFlight: Promise<void> | null = null;
  private pumping = false;
  private ackIds: number[] = [];
  private ackJobs: WorkerJob<T>[] = [];
  private ackScheduled = false;
  /** ack/fail/progress requests not yet answered */
  private ops = 0;
  private idleWaiters: (() => void)[] = [];
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;

  constructor(queue: string, handler: Handler<T, R> | ProcessorRef, options: WorkerOptions = {}) {
    super();
    this.queue = queue;
    if (typeof handler === 'function') {
      this.handler = handler;
    } else {
      const sandbox = new Sandbox(handler, options.threads ?? 1, (r) => {
        this.op(this.acker.progress(r.id, r.progress, r.message), noop, (e) => this.reportError(e));
      });
      this.sandbox = sandbox;
      this.handler = (job) => sandbox.run(job) as Promise<R>;
    }
    this.concurrency = Math.max(1, options.concurrency ?? (this.sandbox ? this.sandbox.threads : 10));
    this.batchSize = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? this.concurrency * 2));
    this.pullTimeoutMs = Math.max(0, options.pullTimeoutMs ?? 1000);
    const { concurrency: _c, batchSize: _b, pullTimeoutMs: _p, autoStart, threads: _t, ...conn } = options;
    this.puller = new FlashqClient(conn);
    this.acker = new FlashqClient(conn);
    this.puller.connection.on('disconnect', () => this.onLeasesLost());
    if (autoStart ?? true) this.start().catch((err: Error) => this.reportError(err));
  }

  /** Jobs whose handler is running. */
  get activeCount(): number {
    return this.active;
  }

  /** Connect both connections and start pulling. Resolves once connected. */
  start(): Promise<void> {
    if (this.closePromise) return Promise.reject(new Error('worker is closed'));
    this.startPromise ??= Promise.all([this.puller.connect(), this.acker.connect()]).then(() => {
      if (this.closePromise) return;
      this.running = true;
      this.maybePull();
    });
    return this.startPromise;
  }

  /**
   * Stop pulling, let the pull in flight return (its jobs are processed too), wait for every running
   * handler and for their acks to be answered, then close both connections.
   */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.running = false;
      if (this.startPromise) await this.startPromise.catch(() => {});
      while (this.pullInFlight || this.active > 0 || this.buffer.length > 0 || this.ops > 0 || this.ackIds.length > 0) {
        if (this.ackIds.length > 0) this.flushAcks();
        if (this.pullInFlight) await this.pullInFlight;
        else await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
      await Promise.all([this.puller.close(), this.acker.close()]);
      if (this.sandbox) await this.sandbox.close();
      this.emit('closed');
    })();
    return this.closePromise;
  }

  // ---- pulling ----

  private maybePull(): void {
    if (!this.running || this.pullInFlight) return;
    // ask again while handlers run, once half the pulled-ahead jobs have started
    const buffered = this.buffer.length;
    if (buffered > this.batchSize / 2) return;
    const count = this.batchSize - buffered;
    this.pullInFlight = this.pull(count);
  }

  private async pull(count: number): Promise<void> {
    let idle = false;
    try {
      const jobs = await this.puller.pullBatch<T>(this.queue, count, { timeout: this.pullTimeoutMs });
      const epoch = this.epoch;
      for (const job of jobs) {
        const prepared = this.prepare(job);
        (prepared as Leased<T>)[EPOCH] = epoch;
        this.buffer.push(prepared);
      }
      idle = jobs.length === 0 && this.pullTimeoutMs < 10;
    } catch (err) {
      this.reportError(err as Error);
      idle = true;
    }
    // an error, or an empty answer to a pull that did not wait, must not become a busy loop
    if (idle && this.running) await new Promise((r) => setTimeout(r, 100));
    this.pullInFlight = null;
    this.pump();
    this.notifyIdle();
  }

  private prepare(raw: Job<T>): WorkerJob<T> {
    const job = raw as WorkerJob<T>;
    const acker = this.acker;
    const id = job.id;
    job.updateProgress = (progress: number, message?: string) => {
      const p = acker.progress(id, progress, message);
      this.op(p, noop, noop); // the caller gets the outcome; this only makes close() wait for it
      return p;
    };
    return job;
  }

  // ---- running handlers ----

  private pump(): void {
    // re-entered when a synchronous handler finishes inside the loop: the loop itself continues
    if (this.pumping) return;
    this.pumping = true;
    while (this.active < this.concurrency && this.buffer.length > 0) {
      const job = this.buffer.shift()!;
      const lost = this.leaseLost(job);
      if (lost !== null) {
        this.emit('expired', job, lost);
        continue;
      }
      this.active++;
      this.run(job);
    }
    this.pumping = false;
    this.maybePull();
  }

  private run(job: WorkerJob<T>): void {
    let out: R | Promise<R>;
    try {
      const worker = this;
      // the signal (an AbortController, maybe a timer) is made only for handlers that read it
      const ctx: JobContext = {
        jobId: job.id,
        updateProgress: job.updateProgress,
        get signal() {
          return worker.leaseSignal(job);
        },
      };
      out = this.handler(job, ctx);
    } catch (err) {
      this.onFailed(job, err);
      return;
    }
    if (out !== null && typeof out === 'object' && typeof (out as Promise<R>).then === 'function') {
      (out as Promise<R>).then(
        (result) => this.onCompleted(job, result),
        (err: unknown) => this.onFailed(job, err),
      );
    } else {
      this.onCompleted(job, out as R);
    }
  }

  private onCompleted(job: WorkerJob<T>, result: R): void {
    this.active--;
    this.endLease(job);
    if (result === undefined) {
      this.ackIds.push(job.id);
      this.ackJobs.push(job);
      if (!this.ackScheduled) {
        this.ackScheduled = true;
        // setImmediate, not a microtask: every handler finishing in this turn joins the same ACKB
        setImmediate(this.flushAcksBound);
      }
    } else {
      this.op(this.acker.ack(job.id, result), () => this.emit('completed', job, result), (e) => this.reportError(e));
    }
    this.pump();
    this.notifyIdle();
  }

  private onFailed(job: WorkerJob<T>, err: unknown): void {
    this.active--;
    this.endLease(job);
    const message = err instanceof Error ? err.message : String(err);
    // the server retries after back-off while deliveries remain (max_attempts), else dead-letters
    const willRetry = job.attempts < job.max_attempts;
    this.op(this.acker.fail(job.id, message), () => this.emit('failed', job, err, willRetry), (e) => this.reportError(e));
    this.pump();
    this.notifyIdle();
  }

  // ---- acknowledging ----

  private readonly flushAcksBound = () => this.flushAcks();

  private flushAcks(): void {
    this.ackScheduled = false;
    const ids = this.ackIds;
    const jobs = this.ackJobs;
    if (ids.length === 0) return;
    this.ackIds = [];
    this.ackJobs = [];
    for (let i = 0; i < ids.length; i += MAX_BATCH) {
      this.sendAcks(ids.slice(i, i + MAX_BATCH), jobs.slice(i, i + MAX_BATCH), true);
    }
  }

  private sendAcks(ids: number[], jobs: WorkerJob<T>[], retry: boolean): void {
    this.op(
      this.acker.ackBatch(ids),
      (count) => {
        if (count < ids.length) {
          // the server no longer held some of them as active (job timeout, or the pull connection dropped)
          this.reportError(new Error(`${ids.length - count} of ${ids.length} acknowledgements were not applied`));
        }
        if (this.listenerCount('completed') > 0) for (const job of jobs) this.emit('completed', job, undefined);
      },
      (err) => {
        if (retry && err instanceof FlashqConnectionError && err.code === 'CONNECTION_LOST') {
          // the ACKB may not have reached the server; acking again after the reconnect is harmless
          this.sendAcks(ids, jobs, false);
        } else if (err instanceof FlashqClientError && ids.length > 1) {
          // a batch is refused whole when one id is stale: ack one by one so the others still count
          for (let i = 0; i < ids.length; i++) {
            const job = jobs[i]!;
            this.op(this.acker.ack(job.id), () => this.emit('completed', job, undefined), (e) => this.reportError(e));
          }
        } else {
          this.reportError(err);
        }
      },
    );
  }

  // ---- leases ----

  private onLeasesLost(): void {
    this.epoch++;
    for (const c of this.leases.values()) c.abort(new Error('lease lost: the pull connection dropped'));
  }

  private leaseLost(job: WorkerJob<T>): LeaseLoss | null {
    if ((job as Leased<T>)[EPOCH] !== this.epoch) return 'connection lost';
    if (job.timeout !== null && job.timeout > 0 && Date.now() >= this.deadline(job)) return 'timed out';
    return null;
  }

  /**
   * The lease's end on this machine's clock: the server's started_at, or the pull's arrival when
   * the clocks disagree so much that started_at lies in our future.
   */
  private deadline(job: WorkerJob<T>): number {
    return Math.min(job.started_at, Date.now()) + job.timeout!;
  }

  /** An AbortSignal ending with the lease: at its timeout, or when the pull connection drops. */
  private leaseSignal(job: WorkerJob<T>): AbortSignal {
    const known = this.leases.get(job.id);
    if (known) return known.signal;
    const c = new AbortController();
    if ((job as Leased<T>)[EPOCH] !== this.epoch) c.abort(new Error('lease lost: the pull connection dropped'));
    this.leases.set(job.id, c);
    if (job.timeout !== null && job.timeout > 0) {
      const t = setTimeout(() => c.abort(new Error(`lease lost: job ${job.id} timed out after ${job.timeout} ms`)), Math.max(0, this.deadline(job) - Date.now()));
      t.unref();
      c.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
      this.timers.set(job.id, t);
    }
    return c.signal;
  }

  private endLease(job: WorkerJob<T>): void {
    if (this.leases.size === 0) return;
    this.leases.delete(job.id);
    const t = this.timers.get(job.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(job.id);
    }
  }

  // ---- bookkeeping ----

  /** Count a request until its outcome has been handled, so close() waits for it. */
  private op<X>(p: Promise<X>, onDone: (x: X) => void, onError: (e: Error) => void): void {
    this.ops++;
    p.then(onDone, onError)
      .catch((e: Error) => this.reportError(e))
      .finally(() => {
        this.ops--;
        this.notifyIdle();
      });
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private reportError(err: Error): void {
    // EventEmitter throws on an unheard 'error'; a worker should not crash its process for it
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { type: 'FlashqWorkerError' });
  }
}
