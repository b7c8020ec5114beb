/**
 * A binary min-heap of (time, item), used for everything that happens at a time: delayed jobs,
 * ttl deadlines, active-job timeouts, cron runs. Entries with equal times come out in insertion
 * order (a batch delayed together becomes ready in push order).
 *
 * Deletion is lazy: when an entry stops mattering (the job moved on), the owner calls `forget()`
 * and leaves it in place; `isCurrent` tells a live entry from a stale one when it surfaces. When
 * stale entries outnumber the rest, `compact` drops them in one O(n) pass, so memory stays
 * proportional to the entries that matter.
 */
export class DelayHeap<T> {
  private times = new Float64Array(64);
  /** insertion number, the tie-breaker between equal times */
  private order = new Float64Array(64);
  private items: (T | undefined)[] = [];
  private n = 0;
  private inserted = 0;
  /** entries reported stale and not yet dropped (an estimate: it only triggers compaction) */
  private stale = 0;

  constructor(private readonly isCurrent: (time: number, item: T) => boolean) {}

  get size(): number {
    return this.n;
  }

  push(time: number, item: T): void {
    if (this.n === this.times.length) this.grow();
    this.place(this.n++, time, this.inserted++, item);
  }

  /** Time of the earliest entry (stale or not), Infinity when empty. */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.times[0]!;
  }

  /**
   * Pop the earliest entry if it is due (time <= now) and current; stale due entries are dropped
   * on the way. Returns the item, or undefined when nothing current is due.
   */
  popDue(now: number): T | undefined {
    while (this.n > 0 && this.times[0]! <= now) {
      const time = this.times[0]!;
      const item = this.items[0]!;
      this.removeTop();
      if (this.isCurrent(time, item)) return item;
      if (this.stale > 0) this.stale--;
    }
    return undefined;
  }

  /** Earliest current time (stale entries in front are dropped), Infinity when none. */
  nextTime(): number {
    while (this.n > 0 && !this.isCurrent(this.times[0]!, this.items[0]!)) {
      this.removeTop();
      if (this.stale > 0) this.stale--;
    }
    return this.peekTime();
  }

  /** An entry stopped mattering; reclaim space once most entries are stale. */
  forget(): void {
    if (++this.stale > 1024 && this.stale * 2 > this.n) this.compact();
  }

  /** Drop every stale entry and rebuild the heap. */
  compact(): void {
    const { times, order, items } = this;
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const it = items[i]!;
      if (this.isCurrent(times[i]!, it)) {
        times[k] = times[i]!;
        order[k] = order[i]!;
        items[k++] = it;
      }
    }
    items.length = k;
    this.n = k;
    this.stale = 0;
    for (let i = (k >> 1) - 1; i >= 0; i--) this.siftDown(i, times[i]!, order[i]!, items[i]!);
  }

  private removeTop(): void {
    const n = --this.n;
    const time = this.times[n]!;
    const ord = this.order[n]!;
    const item = this.items[n]!;
    this.items[n] = undefined;
    if (n > 0) this.siftDown(0, time, ord, item);
    else if (this.items.length > 1024) this.items = [];
  }

  /** Sift (time, ord, item) up from the hole at i. */
  private place(i: number, time: number, ord: number, item: T): void {
    const { times, order, items } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && order[parent]! < ord)) break;
      times[i] = pt;
      order[i] = order[parent]!;
      items[i] = items[parent];
      i = parent;
    }
    times[i] = time;
    order[i] = ord;
    items[i] = item;
  }

  /** Sift (time, ord, item) down from the hole at i. */
  private siftDown(i: number, time: number, ord: number, item: T): void {
    const { times, order, items } = this;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && order[r]! < order[l]!))) c = r;
      const ct = times[c]!;
      if (ct > time || (ct === time && order[c]! > ord)) break;
      times[i] = ct;
      order[i] = order[c]!;
      items[i] = items[c];
      i = c;
    }
    times[i] = time;
    order[i] = ord;
    items[i] = item;
  }

  private grow(): void {
    const t = new Float64Array(this.times.length * 2);
    t.set(this.times);
    this.times = t;
    const o = new Float64Array(this.order.length * 2);
    o.set(this.order);
    this.order = o;
  }
}
