import type { Format } from '../protocol/result.js';
import type { Request } from '../protocol/request.js';

/** A PULL/PULLB parked until a job is ready, its timeout elapses or its connection closes. */
export interface Waiter {
  conn: number;
  seq: number;
  format: Format;
  reqId: string | number | null;
  request: Extract<Request, { cmd: 'PULL' | 'PULLB' }>;
  /** epoch ms; Infinity = no timeout */
  deadline: number;
  /** index in the deadline heap, -1 when not in it */
  heapIndex: number;
  done: boolean;
}

/**
 * Parked pulls of one shard: FIFO per queue (first come, first served), a min-heap by deadline for
 * timeouts, and an index per connection so a closed socket cancels its pulls at once.
 */
export class Waiters {
  private readonly byQueue = new Map<string, Waiter[]>();
  private readonly byConn = new Map<number, Set<Waiter>>();
  private readonly heap: Waiter[] = [];
  size = 0;

  add(w: Waiter): void {
    const q = w.request.queue;
    let list = this.byQueue.get(q);
    if (!list) this.byQueue.set(q, (list = []));
    list.push(w);
    let set = this.byConn.get(w.conn);
    if (!set) this.byConn.set(w.conn, (set = new Set()));
    set.add(w);
    if (w.deadline !== Infinity) this.heapPush(w);
    this.size++;
  }

  /** Waiters of a queue in arrival order (skipping finished ones, compacting as it goes). */
  queueWaiters(queue: string): Waiter[] | undefined {
    const list = this.byQueue.get(queue);
    if (!list) return undefined;
    let live = 0;
    for (const w of list) if (!w.done) list[live++] = w;
    list.length = live;
    if (live === 0) {
      this.byQueue.delete(queue);
      return undefined;
    }
    return list;
  }

  /** Whether unfinished waiters exist (served ones stay listed until compacted: they must not count). */
  hasQueue(queue: string): boolean {
    return this.queueWaiters(queue) !== undefined;
  }

  finish(w: Waiter): void {
    if (w.done) return;
    w.done = true;
    this.size--;
    const set = this.byConn.get(w.conn);
    if (set) {
      set.delete(w);
      if (set.size === 0) this.byConn.delete(w.conn);
    }
    if (w.heapIndex >= 0) this.heapRemove(w.heapIndex);
  }

  /** Cancel every waiter of a closed connection (no answers: nobody reads them). */
  dropConn(conn: number): void {
    const set = this.byConn.get(conn);
    if (!set) return;
    for (const w of [...set]) this.finish(w);
  }

  /** Remove and return the waiters of the queues `pick` selects (their partition is leaving). */
  takeQueues(pick: (queue: string) => boolean): Waiter[] {
    const out: Waiter[] = [];
    for (const [queue, list] of this.byQueue) {
      if (!pick(queue)) continue;
      for (const w of list) if (!w.done) out.push(w);
      this.byQueue.delete(queue);
    }
    for (const w of out) this.finish(w);
    return out;
  }

  /** Remove and return every waiter (stop: they are answered with no job). */
  takeAll(): Waiter[] {
    const out: Waiter[] = [];
    for (const set of this.byConn.values()) for (const w of set) out.push(w);
    for (const w of out) this.finish(w);
    return out;
  }

  nextDeadline(): number {
    return this.heap.length > 0 ? this.heap[0]!.deadline : Infinity;
  }

  /** Remove and return the waiters whose deadline is <= now. */
  expired(now: number): Waiter[] {
    const out: Waiter[] = [];
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) {
      const w = this.heap[0]!;
      this.finish(w);
      out.push(w);
    }
    return out;
  }

  private heapPush(w: Waiter): void {
    w.heapIndex = this.heap.length;
    this.heap.push(w);
    this.up(w.heapIndex);
  }

  private heapRemove(i: number): void {
    const h = this.heap;
    const removed = h[i]!;
    removed.heapIndex = -1;
    const last = h.pop()!;
    if (last !== removed) {
      h[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.deadline <= h[i]!.deadline) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.deadline < h[m]!.deadline) m = l;
      if (r < h.length && h[r]!.deadline < h[m]!.deadline) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a]!;
    h[a] = h[b]!;
    h[b] = t;
    h[a]!.heapIndex = a;
    h[b]!.heapIndex = b;
  }
}
