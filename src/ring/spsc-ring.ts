/**
 * Single-producer single-consumer byte ring over a SharedArrayBuffer.
 *
 * Layout: a 320-byte control block of Int32 words, then `capacity` data bytes. Head (producer)
 * and tail (consumer) are free-running u32 counters on separate 64-byte lines so the two threads
 * do not bounce one cache line on every frame; `counter & mask` is the data index, which is why
 * the capacity is a power of two (the counters then wrap at 2^32 consistently).
 *
 * A frame in the data area is `i32 len` + bytes, padded to 4. A frame is always contiguous: when
 * it does not fit before the end, the producer writes a WRAP marker and starts at index 0. Any
 * frame up to `maxFrame` (capacity/2 - 4) fits into an empty ring wherever the head stands, so a
 * legal frame can never wait forever.
 *
 * Ordering: bytes are written with plain stores, then the head is published with Atomics.store;
 * the consumer reads the head with Atomics.load before touching the bytes. Atomics are
 * sequentially consistent, which is also what the two idle/blocked handshakes (Dekker style:
 * "store my flag, then load your counter") rely on to never lose a wake-up.
 */

const HEAD = 0;
const TAIL = 16;
/** 1 while the consumer sleeps waiting for a ping; the producer swaps it to 0 and pings. */
const IDLE = 32;
/** 0, or how many free bytes the producer waits for; the consumer swaps it to 0 and pings back. */
const BLOCKED = 48;
const CAPACITY = 64;
const MAGIC = 65;

const MAGIC_VALUE = 0x52494e47; // "RING"
const HEADER_BYTES = 320;
const WRAP = -1;

/** Bytes a frame of `len` payload bytes occupies in the data area (length word + padding). */
export function recordBytes(len: number): number {
  return (len + 7) & ~3;
}

/**
 * One end's view of a ring. Each thread builds its own SpscRing over the shared buffer and uses
 * it only as producer or only as consumer (the ends cache the other side's counter); one object
 * may play both roles only inside one thread, as the tests do.
 */
export class SpscRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** Largest frame `tryWrite`/`reserve` accept; anything larger throws. */
  readonly maxFrame: number;
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;

  // Producer state: its own head, its last sight of the tail, an open reservation.
  private wHead: number;
  private wTail: number;
  private resAt = -1;
  private resBase = 0;
  private resLen = 0;

  // Consumer state: where the next frame starts, what was last published as tail, its last
  // sight of the head. rTail runs one frame ahead of rDone while a read() view is out.
  private rTail: number;
  private rDone: number;
  private rHead: number;

  /** Allocate and initialise a ring. `startAt` moves both counters (tests use it near 2^32). */
  static create(capacity: number, startAt = 0): SharedArrayBuffer {
    if (!Number.isInteger(capacity) || capacity < 64 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two in [64, 2^30], got ${capacity}`);
    }
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
    const ctl = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    const start = (startAt >>> 0) & ~3;
    ctl[HEAD] = start | 0;
    ctl[TAIL] = start | 0;
    // The consumer starts asleep, so the very first frame pings it.
    ctl[IDLE] = 1;
    ctl[CAPACITY] = capacity;
    Atomics.store(ctl, MAGIC, MAGIC_VALUE);
    return sab;
  }

  constructor(sab: SharedArrayBuffer) {
    const ctl = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    if (Atomics.load(ctl, MAGIC) !== MAGIC_VALUE) throw new TypeError('not a ring buffer (use SpscRing.create)');
    const capacity = ctl[CAPACITY]!;
    this.sab = sab;
    this.ctl = ctl;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxFrame = capacity / 2 - 4;
    this.bytes = new Uint8Array(sab, HEADER_BYTES, capacity);
    this.words = new Int32Array(sab, HEADER_BYTES, capacity >> 2);
    this.wHead = Atomics.load(ctl, HEAD) >>> 0;
    this.wTail = this.rTail = this.rDone = Atomics.load(ctl, TAIL) >>> 0;
    this.rHead = this.wHead;
  }

  // ---- producer -------------------------------------------------------------------------------

  /** Copy `bytes[start, end)` in as one frame. False: not enough free space now (nothing written). */
  tryWrite(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    const len = end - start;
    const at = this.place(len);
    if (at < 0) return false;
    this.bytes.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), at + 4);
    this.publish(at, len);
    return true;
  }

  /**
   * Reserve room for a frame of up to `len` bytes and return a view to build it in place, or null
   * when it does not fit now. Nothing is visible to the consumer until `commit`.
   */
  reserve(len: number): Uint8Array | null {
    const at = this.place(len);
    if (at < 0) return null;
    this.resAt = at;
    this.resLen = len;
    return this.bytes.subarray(at + 4, at + 4 + len);
  }

  /** Publish the reserved frame, optionally shortened to `len` bytes. */
  commit(len = this.resLen): void {
    const at = this.resAt;
    if (at < 0) throw new Error('commit without reserve');
    if (len < 0 || len > this.resLen) throw new RangeError(`commit(${len}) outside the reserved ${this.resLen} bytes`);
    this.resAt = -1;
    this.publish(at, len);
  }

  /**
   * After a write: true once per consumer sleep, meaning the caller must ping the consumer.
   * The plain load first keeps the common (consumer busy) case free of read-modify-writes.
   */
  needsWake(): boolean {
    return Atomics.load(this.ctl, IDLE) !== 0 && Atomics.exchange(this.ctl, IDLE, 0) !== 0;
  }

  /**
   * Declare the producer blocked until `wantFree` bytes are free. The caller must retry its
   * write after this (the consumer may have freed space just before the flag landed); if the
   * retry still fails, a "space" ping is guaranteed to follow.
   */
  markBlocked(wantFree: number): void {
    Atomics.store(this.ctl, BLOCKED, Math.max(4, Math.min(wantFree | 0, this.capacity)));
  }

  clearBlocked(): void {
    Atomics.store(this.ctl, BLOCKED, 0);
  }

  /** Bytes in use, as seen by the producer (refreshes its view of the tail). */
  usedBytes(): number {
    this.wTail = Atomics.load(this.ctl, TAIL) >>> 0;
    return (this.wHead - this.wTail) >>> 0;
  }

  private place(len: number): number {
    if (!(len >= 0 && len <= this.maxFrame)) {
      throw new RangeError(`frame of ${len} bytes exceeds the ring's maximum of ${this.maxFrame}`);
    }
    this.resAt = -1; // any open reservation is abandoned: its bytes may be overwritten now
    const cap = this.capacity;
    const rec = (len + 7) & ~3;
    const h = this.wHead;
    const idx = h & this.mask;
    const room = cap - idx;
    const need = rec <= room ? rec : room + rec;
    if (cap - ((h - this.wTail) >>> 0) < need) {
      this.wTail = Atomics.load(this.ctl, TAIL) >>> 0;
      if (cap - ((h - this.wTail) >>> 0) < need) return -1;
    }
    if (rec <= room) {
      this.resBase = h;
      return idx;
    }
    this.words[idx >> 2] = WRAP;
    this.resBase = (h + room) >>> 0;
    return 0;
  }

  private publish(at: number, len: number): void {
    this.words[at >> 2] = len;
    this.wHead = (this.resBase + ((len + 7) & ~3)) >>> 0;
    Atomics.store(this.ctl, HEAD, this.wHead | 0);
  }

  // ---- consumer -------------------------------------------------------------------------------

  /**
   * The next frame as a view into the ring, or null when empty. The view stays valid until the
   * next `read`, `release` or `markIdle`, which is when its space is handed back to the producer
   * (so a handler may parse in place; copy what must outlive it).
   */
  read(): Uint8Array | null {
    let t = this.rTail;
    if (t !== this.rDone) {
      this.rDone = t;
      Atomics.store(this.ctl, TAIL, t | 0);
    }
    for (;;) {
      if (t === this.rHead) {
        this.rHead = Atomics.load(this.ctl, HEAD) >>> 0;
        if (t === this.rHead) return null;
      }
      const idx = t & this.mask;
      const len = this.words[idx >> 2]!;
      if (len === WRAP) {
        t = (t + this.capacity - idx) >>> 0;
        this.rTail = t;
        continue;
      }
      if (len < 0 || len > this.maxFrame) throw new Error(`ring corrupted: frame length ${len} at ${idx}`);
      this.rTail = (t + ((len + 7) & ~3)) >>> 0;
      return this.bytes.subarray(idx + 4, idx + 4 + len);
    }
  }

  /** Like `read`, but a private copy (not shared memory) that stays valid. */
  readCopy(): Uint8Array | null {
    const v = this.read();
    if (v === null) return null;
    const copy = new Uint8Array(v);
    this.release();
    return copy;
  }

  /** Hand the space of the frame last returned by `read` back to the producer. */
  release(): void {
    if (this.rTail !== this.rDone) {
      this.rDone = this.rTail;
      Atomics.store(this.ctl, TAIL, this.rDone | 0);
    }
  }

  /**
   * Declare the consumer asleep. False when frames arrived meanwhile: keep draining, no ping will
   * come. True: the next write is guaranteed to produce a ping (its producer sees the flag).
   */
  markIdle(): boolean {
    this.release();
    Atomics.store(this.ctl, IDLE, 1);
    if ((Atomics.load(this.ctl, HEAD) >>> 0) !== this.rTail) {
      // A producer that swapped the flag meanwhile sends one spare ping; harmless.
      Atomics.store(this.ctl, IDLE, 0);
      return false;
    }
    return true;
  }

  /**
   * Consumer side, after releasing space: true once when the producer is blocked and now has the
   * free space it asked for; the caller then pings it ("space freed").
   */
  spaceWakeDue(): boolean {
    const want = Atomics.load(this.ctl, BLOCKED);
    if (want === 0) return false;
    const used = ((Atomics.load(this.ctl, HEAD) >>> 0) - this.rDone) >>> 0;
    if (this.capacity - used < want) return false;
    return Atomics.exchange(this.ctl, BLOCKED, 0) !== 0;
  }
}
