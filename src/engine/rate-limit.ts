/**
 * Token bucket: capacity N, refilled continuously at N per second, computed from the caller's
 * clock when asked (no timers). A new bucket starts full. Kept in thousandths of a token, so with
 * integer rates and millisecond clocks the arithmetic is exact (a token is back exactly when due).
 */
export class TokenBucket {
  /** thousandths of a token */
  private milli: number;
  private last: number;

  constructor(
    readonly rate: number,
    now: number,
  ) {
    this.milli = rate * 1000;
    this.last = now;
  }

  /** Whole tokens available at `now`. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.milli / 1000);
  }

  take(n: number): void {
    this.milli -= n * 1000;
  }

  /** Earliest time at which one whole token is available (as of the last refill). */
  nextTokenTime(): number {
    if (this.milli >= 1000) return this.last;
    return this.last + Math.ceil((1000 - this.milli) / this.rate);
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt <= 0) return; // a clock that steps back grants nothing
    this.milli = Math.min(this.rate * 1000, this.milli + dt * this.rate);
    this.last = now;
  }
}
