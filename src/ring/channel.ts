import { SpscRing, recordBytes } from './spsc-ring.js';

/**
 * One direction of transport: a ring plus a way to poke the thread at the other end.
 *
 * The same class serves both ends, each thread holding its own instance over the shared buffer:
 * - producer end: `send` writes frames; `ping` wakes the consumer ("data") when it sleeps; when
 *   the ring is full, frames wait in a bounded pending list and `onDrain` reports when it empties
 *   (the caller pauses its own producers meanwhile: socket reads, a shard's inbound drain).
 * - consumer end: `drain` hands frames to a handler and then sleeps via `markIdle`; `ping` tells
 *   a blocked producer that space was freed ("space"), and the producer calls `onSpace`.
 * Both pings follow the same pattern: the waiting side raises a flag and re-checks; the other
 * side swaps the flag down and pings. Either the re-check or the ping sees the change, never neither.
 */

export interface RingChannelOptions {
  /** Payload bytes the producer may hold back while the ring is full; default 2 × capacity. */
  maxPendingBytes?: number;
  /** Bytes one `drain` consumes before returning, so one busy ring cannot starve the event loop; default 2 × capacity. */
  drainBudgetBytes?: number;
}

/** The producer ignored back-pressure (`send` returned false) until the pending bound ran out. */
export class RingOverflowError extends Error {
  override readonly name = 'RingOverflowError';
}

export class RingChannel {
  readonly ring: SpscRing;
  /** Producer end: called once the pending frames are all in the ring after `send` returned false. */
  onDrain: (() => void) | null = null;
  /** Consumer end: when set, `drain` stops before the next frame (and does not go idle). */
  paused = false;

  private readonly ping: () => void;
  private readonly maxPending: number;
  private readonly budget: number;
  private pending: (Uint8Array | undefined)[] = [];
  private pendHead = 0;
  private pendBytes = 0;
  /** We raised the shared blocked flag (the consumer may have swapped it down since). */
  private flagged = false;
  /** `send` returned false and `onDrain` has not been called yet. */
  private owed = false;

  constructor(ring: SpscRing | SharedArrayBuffer, ping: () => void, options: RingChannelOptions = {}) {
    this.ring = ring instanceof SpscRing ? ring : new SpscRing(ring);
    this.ping = ping;
    this.maxPending = options.maxPendingBytes ?? 2 * this.ring.capacity;
    this.budget = options.drainBudgetBytes ?? 2 * this.ring.capacity;
  }

  get maxFrame(): number {
    return this.ring.maxFrame;
  }

  /** Bytes waiting for ring space. */
  get pendingBytes(): number {
    return this.pendBytes;
  }

  /** False while frames wait for ring space: producers should hold off until `onDrain`. */
  get writable(): boolean {
    return this.pendHead === this.pending.length;
  }

  // ---- producer end ---------------------------------------------------------------------------

  /**
   * Send one frame. True: it is in the ring. False: it was copied to the pending list and the
   * caller should pause until `onDrain`. Throws RangeError for a frame over `maxFrame` and
   * RingOverflowError when the pending list would exceed its bound.
   */
  send(frame: Uint8Array): boolean {
    const ring = this.ring;
    const wasEmpty = this.pendHead === this.pending.length;
    if (wasEmpty && ring.tryWrite(frame)) {
      if (ring.needsWake()) this.ping();
      return true;
    }
    if (frame.length > ring.maxFrame) throw new RangeError(`frame of ${frame.length} bytes exceeds the ring's maximum of ${ring.maxFrame}`);
    if (this.pendBytes + frame.length > this.maxPending) {
      throw new RingOverflowError(`ring full and ${this.pendBytes} bytes already pending (bound ${this.maxPending}): the producer ignored back-pressure`);
    }
    // new Uint8Array(view) copies; Buffer#slice (FrameBuilder output is a Buffer) would not.
    this.pending.push(new Uint8Array(frame));
    this.pendBytes += frame.length;
    // Already waiting for a space ping: the flag is raised, nothing to retry.
    if (wasEmpty && this.flush()) return true;
    this.owed = true;
    return false;
  }

  /** Producer end: a "space freed" ping arrived. */
  onSpace(): void {
    if (this.pendHead === this.pending.length) return; // spare ping
    if (this.flush() && this.owed) {
      this.owed = false;
      this.onDrain?.();
    }
  }

  /**
   * Write pending frames in order. Returns true when all are written. Otherwise it leaves the
   * blocked flag raised *and* re-checked after raising, so a space ping is certain to follow.
   */
  private flush(): boolean {
    const ring = this.ring;
    const pending = this.pending;
    let wrote = false;
    let marked = false;
    for (;;) {
      let progress = false;
      while (this.pendHead < pending.length) {
        const f = pending[this.pendHead]!;
        if (!ring.tryWrite(f)) break;
        pending[this.pendHead++] = undefined;
        this.pendBytes -= f.length;
        progress = true;
      }
      wrote ||= progress;
      if (this.pendHead === pending.length) {
        pending.length = 0;
        this.pendHead = 0;
        if (this.flagged) {
          this.flagged = false;
          ring.clearBlocked();
        }
        break;
      }
      if (marked && !progress) break;
      // Ask for room for the next frame, or for everything pending up to half the ring, so the
      // producer is woken once per large chunk of freed space instead of once per frame.
      const first = recordBytes(pending[this.pendHead]!.length);
      ring.markBlocked(Math.min(ring.capacity >> 1, Math.max(first, this.pendBytes)));
      this.flagged = marked = true;
    }
    if (this.pendHead > 1024 && this.pendHead * 2 > pending.length) {
      pending.splice(0, this.pendHead);
      this.pendHead = 0;
    }
    if (wrote && ring.needsWake()) this.ping();
    return this.pendHead === pending.length;
  }

  // ---- consumer end ---------------------------------------------------------------------------

  /**
   * Hand every available frame to `handler` (a view into the ring, valid only during the call),
   * then go idle. Returns true when idle (a data ping will come for the next frame); false when
   * it stopped early (budget spent or `paused`), in which case the caller must call again.
   */
  drain(handler: (frame: Uint8Array) => void): boolean {
    const ring = this.ring;
    let budget = this.budget;
    for (;;) {
      if (this.paused || budget <= 0) {
        ring.release();
        if (ring.spaceWakeDue()) this.ping();
        return false;
      }
      const frame = ring.read(); // also releases the previous frame
      if (ring.spaceWakeDue()) this.ping();
      if (frame === null) {
        if (ring.markIdle()) return true;
        continue;
      }
      budget -= frame.length + 4;
      handler(frame);
    }
  }
}
