/**
 * A double-ended queue of items that remember where they sit (`pos`), so an item can be removed
 * from the middle in O(1) by leaving a hole. Positions are absolute (they survive growth); holes
 * are skipped when popped and squeezed out when they outnumber the items.
 */
export interface Positioned {
  pos: number;
}

/** Positions stay small integers (Smis, valid for `&`); rebased long before they could overflow. */
const REBASE_AT = 0x3fffffff;
const MIN_CAPACITY = 16;

export class Deque<T extends Positioned> {
  private buf: (T | null)[];
  private mask: number;
  private head = 0;
  private tail = 0;
  /** items present (holes excluded) */
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.buf = newSlots<T>(cap);
    this.mask = cap - 1;
  }

  pushBack(item: T): void {
    if (this.tail - this.head > this.mask) this.resize(this.buf.length * 2);
    else if (this.tail >= REBASE_AT) this.resize(this.buf.length);
    const p = this.tail++;
    this.buf[p & this.mask] = item;
    item.pos = p;
    this.size++;
  }

  pushFront(item: T): void {
    if (this.tail - this.head > this.mask) this.resize(this.buf.length * 2);
    else if (this.head <= -REBASE_AT) this.resize(this.buf.length);
    const p = --this.head;
    this.buf[p & this.mask] = item;
    item.pos = p;
    this.size++;
  }

  /** The oldest item (front), or null when empty. */
  popFront(): T | null {
    const buf = this.buf;
    const mask = this.mask;
    while (this.head < this.tail) {
      const i = this.head & mask;
      const item = buf[i]!;
      this.head++;
      if (item !== null) {
        buf[i] = null;
        if (--this.size === 0) this.reset();
        return item;
      }
    }
    return null;
  }

  peekFront(): T | null {
    const buf = this.buf;
    for (let p = this.head; p < this.tail; p++) {
      const item = buf[p & this.mask]!;
      if (item !== null) return item;
      this.head = p + 1; // holes in front are dead weight; drop them while looking
    }
    return null;
  }

  /** Whether `item` is the one stored at its recorded position. */
  holds(item: T): boolean {
    const p = item.pos;
    return p >= this.head && p < this.tail && this.buf[p & this.mask] === item;
  }

  /** Remove an item known to be in this deque (see `holds`). */
  remove(item: T): void {
    this.buf[item.pos & this.mask] = null;
    if (--this.size === 0) this.reset();
    else if (this.tail - this.head > 2 * this.size + 64) this.resize(this.buf.length);
  }

  /** Items front to back. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let p = this.head; p < this.tail; p++) {
      const item = this.buf[p & this.mask];
      if (item !== null && item !== undefined) yield item;
    }
  }

  private reset(): void {
    this.head = 0;
    this.tail = 0;
    // give a drained burst's memory back
    if (this.buf.length > 1024) {
      this.buf = newSlots<T>(MIN_CAPACITY);
      this.mask = MIN_CAPACITY - 1;
    }
  }

  /** Copy the items to a fresh buffer from position 0 (squeezes holes, rebases positions). */
  private resize(minCapacity: number): void {
    let cap = MIN_CAPACITY;
    while (cap < minCapacity || cap < this.size * 2) cap *= 2;
    const old = this.buf;
    const oldMask = this.mask;
    const buf = newSlots<T>(cap);
    let n = 0;
    for (let p = this.head; p < this.tail; p++) {
      const item = old[p & oldMask]!;
      if (item !== null) {
        buf[n] = item;
        item.pos = n++;
      }
    }
    this.buf = buf;
    this.mask = cap - 1;
    this.head = 0;
    this.tail = n;
  }
}

function newSlots<T>(n: number): (T | null)[] {
  return new Array<T | null>(n).fill(null);
}
