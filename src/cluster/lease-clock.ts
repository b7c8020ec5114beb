/**
 * When a node must stop serving each partition it holds, by its own monotonic clock.
 *
 * A renewal that starts at local time t0 and succeeds stamps `expires_at = now() + TTL` in the
 * database, where `now()` is read after t0. So as long as both clocks run at the same rate, the
 * lease cannot expire elsewhere before t0 + TTL; the node stops at t0 + TTL − margin, the margin
 * covering rate drift and the time to stop. A renewal that fails changes nothing here: the old
 * deadline stands and passes.
 *
 * The clock is passed in (milliseconds, monotonic: `performance.now` in production), so tests
 * drive it.
 */
export class LeaseClock {
  private readonly deadlines = new Map<number, number>();

  constructor(
    readonly ttlMs: number,
    readonly marginMs: number,
    private readonly now: () => number,
  ) {
    if (!(marginMs >= 0 && marginMs < ttlMs)) throw new RangeError(`lease margin ${marginMs} ms must be in [0, TTL ${ttlMs} ms)`);
  }

  /** The local time to read just before sending a renewal or acquisition. */
  start(): number {
    return this.now();
  }

  /** The partition's lease was granted or renewed by a statement sent at `startedAt`. */
  renewed(partition: number, startedAt: number): void {
    this.deadlines.set(partition, startedAt + this.ttlMs - this.marginMs);
  }

  /** The partition is no longer held (released or lost). */
  forget(partition: number): void {
    this.deadlines.delete(partition);
  }

  /** Whether the node may still serve `partition` now. */
  valid(partition: number): boolean {
    const d = this.deadlines.get(partition);
    return d !== undefined && this.now() < d;
  }

  /** The partitions whose local deadline has passed; they are forgotten. */
  expire(): number[] {
    const t = this.now();
    const out: number[] = [];
    for (const [p, d] of this.deadlines) {
      if (t >= d) {
        out.push(p);
        this.deadlines.delete(p);
      }
    }
    return out;
  }

  /** Milliseconds until the earliest deadline (null when nothing is held). */
  nextExpiryIn(): number | null {
    let min = Infinity;
    for (const d of this.deadlines.values()) if (d < min) min = d;
    return min === Infinity ? null : Math.max(0, min - this.now());
  }
}
