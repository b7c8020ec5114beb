import { ErrorCode } from '../../base/errors.js';
import type { ShardRouter } from '../shard-router.js';

/** How long a stream waits for its queue's partition to be served again before it gives up. */
export const MOVE_PATIENCE_MS = 30_000;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;

/**
 * Where a long-lived stream (StreamJobs, ProcessJobs) sends its queue's pulls. In cluster mode the
 * queue's partition may move to another node while the stream lives (its owner died, a node
 * joined): the route is looked up again for every pull, and a pull refused because the partition
 * is moving (not served here yet, the link to its old owner lost) is retried with back-off instead
 * of ending the stream. Remembers every link the stream used, so that its end reaches them all.
 */
export class StreamRoute {
  private readonly used = new Set<number>();
  private refusedSince = 0;
  private delay = 0;

  constructor(
    private readonly router: ShardRouter,
    private readonly queue: string,
  ) {}

  /** The link serving the queue now. */
  current(): number {
    const link = this.router.shardOfQueue(this.queue);
    this.used.add(link);
    return link;
  }

  /**
   * A job's result (ack or fail) was refused with `code`: true when the stream goes on without it.
   * A job no longer active (NotFound: timed out, settled elsewhere) needs no result; a refusal
   * because the partition moves means the job's lease left with its old owner: the new owner fails
   * the job back when it loads the partition, and it is delivered again. Any other refusal (an
   * invalid result) is final.
   */
  resultDropped(code: number): boolean {
    return code === ErrorCode.NotFound || this.moving(code);
  }

  /** Every link a request of the stream went to (they fail back its leases when it ends). */
  get links(): Iterable<number> {
    return this.used;
  }

  /** A pull was answered: the partition is served. */
  served(): void {
    this.refusedSince = 0;
    this.delay = 0;
  }

  /**
   * Whether a refusal with `code` says the queue's partition is moving (cluster mode only): not
   * served here yet, or the link to its old owner lost. Such a refusal changed nothing.
   */
  moving(code: number): boolean {
    return this.router.clustered && (code === ErrorCode.NotServed || code === ErrorCode.StorageUnavailable);
  }

  /**
   * A pull was refused with `code`: ms to wait before pulling again while the partition moves
   * (cluster mode only), or -1 when the refusal is final and the stream ends with it.
   */
  retryAfter(code: number, now = Date.now()): number {
    if (!this.moving(code)) return -1;
    if (this.refusedSince === 0) this.refusedSince = now;
    if (now - this.refusedSince > MOVE_PATIENCE_MS) return -1;
    this.delay = this.delay === 0 ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, this.delay * 2);
    return this.delay;
  }
}
