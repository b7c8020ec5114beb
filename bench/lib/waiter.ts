/** A re-armable completion signal for callback-driven loads, bounded by a deadline. */
export class Waiter {
  private resolveFn: (() => void) | null = null;
  private rejectFn: ((e: Error) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** an error that arrived while nobody waited, reported by the next wait() */
  private early: Error | null = null;

  constructor(
    private readonly what: string,
    private readonly deadline: number,
  ) {}

  wait(): Promise<void> {
    if (this.early) return Promise.reject(this.early);
    return new Promise<void>((res, rej) => {
      this.resolveFn = res;
      this.rejectFn = rej;
      this.timer = setTimeout(() => this.fail(new Error(`${this.what}: not finished by the deadline`)), Math.max(1, this.deadline - Date.now()));
    });
  }

  done(): void {
    const r = this.resolveFn;
    this.clear();
    r?.();
  }

  fail(e: Error): void {
    const r = this.rejectFn;
    this.clear();
    if (r) r(e);
    else this.early ??= e;
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.resolveFn = null;
    this.rejectFn = null;
  }
}
