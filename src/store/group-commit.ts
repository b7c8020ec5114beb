import type { Changes } from '../engine/types.js';
import { errors } from '../base/errors.js';
import { buildWriteSet, isEmptyChanges, type WriteSet } from './write-set.js';

/** How long an answered but uncommitted change may wait under PERSIST=async before turns block. */
export const ASYNC_WINDOW_MS = 50;

interface Batch {
  turns: Changes[];
  /** settle the turns that wait for this batch (PERSIST=sync, or async under back-pressure) */
  waiters: Array<(err: Error | null) => void>;
  /** when its first turn arrived */
  since: number;
}

/** PostgreSQL did not answer in time: the connection is presumed hung and replaced. */
export class StoreTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`PostgreSQL did not answer ${what} within ${ms} ms`);
    this.name = 'StoreTimeout';
  }
}

/** `p`, or a StoreTimeout after `ms`. */
export function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeout(what, ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export interface GroupCommitOptions {
  mode: 'sync' | 'async';
  /** writes one merged set in one transaction */
  write: (ws: WriteSet) => Promise<void>;
  /** a transaction failed: the writer has stopped accepting (reopen() resumes) */
  onFailure: (err: Error) => void;
  /**
   * A transaction not settled after this many ms counts as failed (StoreTimeout): a PostgreSQL
   * that hangs with its socket open would otherwise hold every answer forever. It may still
   * commit later; the store then rebuilds from whatever did.
   */
  timeoutMs?: number;
  clock?: () => number;
  /** write sets carry what a fenced cluster commit needs (buildWriteSet's `cluster`) */
  cluster?: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Group commit. One transaction at a time; turns that end while it is in flight accumulate and
 * go together into the next one, so N turns cost one fsync. A transaction starts in a microtask
 * after the turn that opened its batch, so the frames a shard drains in one go merge as well.
 *
 * PERSIST=sync: a turn's promise settles when its transaction did. PERSIST=async: it resolves at
 * once, unless the oldest uncommitted turn is older than ASYNC_WINDOW_MS, in which case it waits
 * like sync: answered-but-uncommitted changes never exceed about that window of traffic.
 */
export class GroupCommit {
  private next: Batch | null = null;
  private inFlight: Batch | null = null;
  private scheduled = false;
  private accepting = true;
  private idleWaiters: Array<() => void> = [];
  /** transactions committed and turns they carried (for the benchmark report) */
  readonly stats = { transactions: 0, turns: 0, rows: 0, buildMs: 0, writeMs: 0 };
  private readonly clock: () => number;

  constructor(private readonly opts: GroupCommitOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  get busy(): boolean {
    return this.inFlight !== null || this.next !== null;
  }

  /** Whether turns with changes are accepted (false after a failure, until reopen). */
  get open(): boolean {
    return this.accepting;
  }

  commit(changes: Changes): Promise<void> {
    if (isEmptyChanges(changes)) return RESOLVED;
    if (!this.accepting) return Promise.reject(errors.storageUnavailable());
    const now = this.clock();
    const b = (this.next ??= { turns: [], waiters: [], since: now });
    b.turns.push(changes);
    if (!this.scheduled && this.inFlight === null) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    if (this.opts.mode === 'async') {
      const oldest = this.inFlight?.since ?? b.since;
      if (now - oldest < ASYNC_WINDOW_MS) return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => b.waiters.push((err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once nothing is pending or in flight. */
  idle(): Promise<void> {
    if (!this.busy) return RESOLVED;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuse turns with changes from now on (PostgreSQL is unreachable). */
  pause(): void {
    this.accepting = false;
  }

  /** Accept turns again (after the store got back to a committed state). */
  reopen(): void {
    this.accepting = true;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight !== null || this.next === null) return;
    const b = this.next;
    this.next = null;
    this.inFlight = b;
    let ws: WriteSet;
    const t0 = performance.now();
    try {
      ws = buildWriteSet(b.turns, this.opts.cluster === true);
    } catch (e) {
      this.done(b, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const t1 = performance.now();
    this.stats.buildMs += t1 - t0;
    const write = this.opts.timeoutMs ? withTimeout(this.opts.write(ws), this.opts.timeoutMs, 'a commit') : this.opts.write(ws);
    write.then(
      () => {
        this.stats.writeMs += performance.now() - t1;
        this.stats.transactions++;
        this.stats.turns += b.turns.length;
        this.stats.rows += ws.insertCount + ws.updateCount;
        this.done(b, null);
      },
      (e: unknown) => this.done(b, e instanceof Error ? e : new Error(String(e))),
    );
  }

  private done(b: Batch, err: Error | null): void {
    this.inFlight = null;
    if (err !== null) {
      // what is queued behind a failed transaction was computed on state that is not committed
      this.accepting = false;
      const rest = this.next;
      this.next = null;
      for (const w of b.waiters) w(err);
      if (rest) for (const w of rest.waiters) w(err);
      this.opts.onFailure(err);
    } else {
      for (const w of b.waiters) w(null);
      if (this.next !== null) this.flush();
    }
    if (!this.busy) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }
}
