import { Deque, type Positioned } from './deque.js';

/**
 * Finished (completed or failed) jobs kept for lookup, oldest first, at most `limit` of them.
 * `add` returns nothing; the caller evicts with `evictOne` while `over()`, so it can undo
 * whatever else the evicted job holds (its DLQ entry, unique key, id).
 */
export class Retention<T extends Positioned> {
  private readonly order = new Deque<T>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.order.size;
  }

  add(job: T): void {
    this.order.pushBack(job);
  }

  /** Whether more jobs are retained than the limit allows. */
  over(): boolean {
    return this.order.size > this.limit;
  }

  /** Remove and return the oldest retained job. */
  evictOne(): T | null {
    return this.order.popFront();
  }

  /** Take a job out early (a DLQ job retried). */
  remove(job: T): void {
    if (this.order.holds(job)) this.order.remove(job);
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.order[Symbol.iterator]();
  }
}
