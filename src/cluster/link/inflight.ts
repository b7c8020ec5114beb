/**
 * Requests sent to a peer and not answered yet. A request travels with its slot number in place of
 * its sequence number (the owner's shard echoes a sequence without reading it), so an answer finds
 * its request by index: no map, no object per request, typed arrays that double when full.
 */
export class Inflight {
  private conn: Uint32Array;
  private seq: Uint32Array;
  private format: Uint8Array;
  /** 1 while the slot holds a request */
  private used: Uint8Array;
  /** free slots, as a stack */
  private free: Int32Array;
  private freeTop: number;
  count = 0;

  constructor(capacity = 1024) {
    this.conn = new Uint32Array(capacity);
    this.seq = new Uint32Array(capacity);
    this.format = new Uint8Array(capacity);
    this.used = new Uint8Array(capacity);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  get capacity(): number {
    return this.conn.length;
  }

  /** the slot now holding (conn, seq, format) */
  add(conn: number, seq: number, format: number): number {
    if (this.freeTop === 0) this.grow();
    const slot = this.free[--this.freeTop]!;
    this.conn[slot] = conn;
    this.seq[slot] = seq;
    this.format[slot] = format;
    this.used[slot] = 1;
    this.count++;
    return slot;
  }

  /** Release the slot an answer names; its request's seq, or -1 when the slot does not hold `conn`. */
  take(slot: number, conn: number): number {
    if (slot >= this.conn.length || this.used[slot] === 0 || this.conn[slot] !== conn) return -1;
    this.release(slot);
    return this.seq[slot]!;
  }

  private release(slot: number): void {
    this.used[slot] = 0;
    this.free[this.freeTop++] = slot;
    this.count--;
  }

  /** Release every slot, calling `each` first (the link dropped: each gets its error answer). */
  drain(each: (conn: number, seq: number, format: number) => void): void {
    if (this.count === 0) return;
    for (let slot = 0; slot < this.used.length; slot++) {
      if (this.used[slot] === 0) continue;
      this.release(slot);
      each(this.conn[slot]!, this.seq[slot]!, this.format[slot]!);
    }
  }

  /**
   * Release the slots of connections that closed: the owner drops their pending answers (a
   * cancelled PULL is never answered), so nothing else would free them.
   */
  forget(closed: ReadonlySet<number>): void {
    if (this.count === 0) return;
    for (let slot = 0; slot < this.used.length; slot++) {
      if (this.used[slot] === 1 && closed.has(this.conn[slot]!)) this.release(slot);
    }
  }

  private grow(): void {
    const old = this.conn.length;
    const cap = old * 2;
    const widen = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.conn = widen(this.conn, (n) => new Uint32Array(n));
    this.seq = widen(this.seq, (n) => new Uint32Array(n));
    this.format = widen(this.format, (n) => new Uint8Array(n));
    this.used = widen(this.used, (n) => new Uint8Array(n));
    const free = new Int32Array(cap);
    // every old slot is in use (the stack was empty): the new ones are free, lowest on top
    for (let i = 0; i < cap - old; i++) free[i] = cap - 1 - i;
    this.free = free;
    this.freeTop = cap - old;
  }
}
