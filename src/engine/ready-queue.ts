import { Deque, type Positioned } from './deque.js';

/**
 * Ready jobs of one queue in delivery order: higher priority first; within a priority, lifo items
 * ahead of the others (newest lifo first), then the others in arrival order.
 *
 * One deque per priority (lifo items enter at its front) and a max-heap of the priorities in use,
 * so push and pop cost O(log P) in the number of distinct priorities, and O(1) while the top
 * priority stays the same. A bucket that empties away from the top stays until it reaches the top.
 */
export class ReadyQueue<T extends Positioned> {
  private readonly buckets = new Map<number, Deque<T>>();
  /** max-heap of the priorities that have a bucket */
  private readonly prios: number[] = [];
  private topPrio = 0;
  private top: Deque<T> | null = null;
  size = 0;

  push(item: T, priority: number, lifo: boolean): void {
    let b = this.top !== null && priority === this.topPrio ? this.top : this.buckets.get(priority);
    if (b === undefined) {
      b = new Deque<T>();
      this.buckets.set(priority, b);
      this.heapPush(priority);
      this.top = null;
    }
    if (lifo) b.pushFront(item);
    else b.pushBack(item);
    this.size++;
  }

  /** Next item to deliver, or null. */
  pop(): T | null {
    if (this.size === 0) return null;
    for (;;) {
      const b = this.top ?? this.settleTop();
      const item = b.popFront();
      if (item !== null) {
        this.size--;
        return item;
      }
      this.dropTop();
    }
  }

  peek(): T | null {
    if (this.size === 0) return null;
    for (;;) {
      const b = this.top ?? this.settleTop();
      const item = b.peekFront();
      if (item !== null) return item;
      this.dropTop();
    }
  }

  /** Remove an item currently queued here with this priority. */
  remove(item: T, priority: number): void {
    const b = this.buckets.get(priority);
    if (b === undefined || !b.holds(item)) return;
    b.remove(item);
    this.size--;
  }

  /** Items in delivery order (for inspection and tests; not a hot path). */
  *[Symbol.iterator](): IterableIterator<T> {
    const order = [...this.buckets.keys()].sort((a, b) => b - a);
    for (const p of order) yield* this.buckets.get(p)!;
  }

  private settleTop(): Deque<T> {
    this.topPrio = this.prios[0]!;
    this.top = this.buckets.get(this.topPrio)!;
    return this.top;
  }

  private dropTop(): void {
    this.buckets.delete(this.prios[0]!);
    this.heapPop();
    this.top = null;
  }

  private heapPush(p: number): void {
    const h = this.prios;
    let i = h.length;
    h.push(p);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! >= p) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = p;
  }

  private heapPop(): void {
    const h = this.prios;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]! > h[l]! ? r : l;
      if (h[c]! <= last) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
