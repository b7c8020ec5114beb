import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { log } from '../log.js';
import { hostOf, refusedAddress, safeLookup } from './target.js';

export interface DeliveryOptions {
  /** per attempt, connect to last byte of the answer */
  timeoutMs: number;
  attempts: number;
  /** wait before attempt n+1 is backoffMs × 2^(n-1) */
  backoffMs: number;
  /** requests in flight at once */
  concurrency: number;
  /** deliveries waiting (queued or between attempts); beyond it new ones are dropped */
  maxPending: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { timeoutMs: 5000, attempts: 3, backoffMs: 1000, concurrency: 16, maxPending: 10_000 };

interface Job {
  url: string;
  body: Buffer;
  signature: string | null;
  event: string;
  attempt: number;
}

/** HMAC-SHA256 of the exact body bytes, lower-case hex (X-FlashQ-Signature). */
export function sign(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Outgoing webhook requests: a bounded FIFO served by a bounded number of concurrent requests, each
 * retried with exponential back-off. A delivery never holds up the queue server: when the backlog
 * is full, new deliveries are dropped and counted.
 */
export class WebhookDelivery {
  readonly opts: DeliveryOptions;
  private readonly queue: Job[] = [];
  private head = 0;
  private active = 0;
  private pending = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  readonly stats = { delivered: 0, failed: 0, dropped: 0, retried: 0 };
  private lastDropLog = 0;

  constructor(opts: Partial<DeliveryOptions> = {}) {
    this.opts = { ...DEFAULT_DELIVERY, ...opts };
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets: this.opts.concurrency });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: this.opts.concurrency });
  }

  /** Queue one delivery; false when the backlog is full and it was dropped. */
  enqueue(url: string, secret: string | null, event: string, body: Buffer): boolean {
    if (this.pending >= this.opts.maxPending) {
      this.stats.dropped++;
      const now = Date.now();
      if (now - this.lastDropLog > 10_000) {
        this.lastDropLog = now;
        log.warn('webhook backlog full, deliveries dropped', { dropped: this.stats.dropped, pending: this.pending });
      }
      return false;
    }
    this.pending++;
    this.queue.push({ url, body, signature: secret === null ? null : sign(secret, body), event, attempt: 1 });
    this.pump();
    return true;
  }

  get backlog(): number {
    return this.pending;
  }

  private pump(): void {
    while (this.active < this.opts.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Job;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.active++;
      this.attempt(job);
    }
  }

  private attempt(job: Job): void {
    this.post(job).then(
      (status) => this.settle(job, status >= 200 && status < 300, `status ${status}`),
      (e: unknown) => this.settle(job, false, e instanceof Error ? e.message : String(e)),
    );
  }

  private settle(job: Job, ok: boolean, why: string): void {
    this.active--;
    if (ok) {
      this.stats.delivered++;
      this.pending--;
    } else if (job.attempt < this.opts.attempts) {
      this.stats.retried++;
      const wait = this.opts.backoffMs * 2 ** (job.attempt - 1);
      job.attempt++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.queue.push(job);
        this.pump();
      }, wait);
      t.unref();
      this.timers.add(t);
    } else {
      this.stats.failed++;
      this.pending--;
      log.warn('webhook delivery failed', { url: job.url, event: job.event, attempts: job.attempt, error: why });
    }
    this.pump();
  }

  private post(job: Job): Promise<number> {
    return new Promise((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(job.url);
      } catch {
        reject(new Error('invalid url'));
        return;
      }
      const refused = refusedAddress(hostOf(url));
      if (refused !== null) {
        reject(new Error(`target refused: ${refused}`));
        return;
      }
      const https = url.protocol === 'https:';
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        'Content-Length': job.body.length,
        'User-Agent': 'flashq-ts',
        'X-FlashQ-Event': job.event,
      };
      if (job.signature !== null) headers['X-FlashQ-Signature'] = job.signature;
      const options: RequestOptions = {
        method: 'POST',
        headers,
        agent: https ? this.httpsAgent : this.httpAgent,
        lookup: safeLookup as unknown as RequestOptions['lookup'],
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      };
      const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
        // read and discard the answer so the keep-alive socket can be reused
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(job.body);
    });
  }

  /** Stop retry timers and idle sockets (deliveries still queued are abandoned). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
