import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RingChannel, type RingChannelOptions } from './channel.js';
import { SpscRing } from './spsc-ring.js';

/**
 * A duplex link between the front and one shard: two rings (one per direction) and one
 * dedicated MessagePort pair that carries only the wake-up pings. Each thread builds a RingLink
 * over its LinkEnd; the ends are mirror images, so front and shard run the same code.
 *
 * Ping values on the port: DATA = "the ring you consume has frames" (you were idle), SPACE =
 * "the ring you produce into has room again" (you were blocked). Anything else is ignored.
 */

const DATA = 1;
const SPACE = 2;

/** What one thread needs; structured-clonable (the port must be in the worker's transferList). */
export interface LinkEnd {
  inbound: SharedArrayBuffer;
  outbound: SharedArrayBuffer;
  port: MessagePort;
}

/** Allocate both rings and the ping port pair; give `shard` to the worker, keep `front`. */
export function createLink(capacity = 4 << 20): { front: LinkEnd; shard: LinkEnd } {
  const toShard = SpscRing.create(capacity);
  const toFront = SpscRing.create(capacity);
  const { port1, port2 } = new MessageChannel();
  return {
    front: { inbound: toFront, outbound: toShard, port: port1 },
    shard: { inbound: toShard, outbound: toFront, port: port2 },
  };
}

export interface RingLinkOptions extends RingChannelOptions {
  /**
   * Stop draining the inbound ring while the outbound one is blocked, so back-pressure travels
   * upstream (a shard whose answers cannot leave stops taking requests; the front's ring fills
   * and it pauses socket reads). Set it in shards only: if both ends held, each could wait on
   * the other forever.
   */
  holdInboundWhileBlocked?: boolean;
}

export class RingLink {
  readonly inbound: RingChannel;
  readonly outbound: RingChannel;
  /** Called when frames that `send` had to queue are all in the ring. */
  onDrain: (() => void) | null = null;

  private readonly port: MessagePort;
  private readonly onFrame: (frame: Uint8Array) => void;
  private readonly hold: boolean;
  private draining = false;
  private scheduled = false;
  private closed = false;

  /**
   * `onFrame` gets each inbound frame as a view into shared memory, valid only during the call:
   * parse it there (FrameReader) and copy what must live longer.
   */
  constructor(end: LinkEnd, onFrame: (frame: Uint8Array) => void, options: RingLinkOptions = {}) {
    const port = end.port;
    this.port = port;
    this.onFrame = onFrame;
    this.hold = options.holdInboundWhileBlocked ?? false;
    this.outbound = new RingChannel(end.outbound, () => port.postMessage(DATA), options);
    this.inbound = new RingChannel(end.inbound, () => port.postMessage(SPACE), options);
    this.outbound.onDrain = () => {
      if (this.hold && this.inbound.paused) {
        this.inbound.paused = false;
        this.schedule();
      }
      this.onDrain?.();
    };
    port.on('message', (m: unknown) => {
      if (m === DATA) this.pump();
      else if (m === SPACE) this.outbound.onSpace();
    });
    // Frames may have been written before this end existed; their ping is queued on the port
    // anyway, but draining now costs nothing and does not depend on it.
    this.schedule();
  }

  /** Largest frame `send` accepts. */
  get maxFrame(): number {
    return this.outbound.maxFrame;
  }

  /** See RingChannel.send: false means "queued, pause until onDrain". */
  send(frame: Uint8Array): boolean {
    const ok = this.outbound.send(frame);
    if (!ok && this.hold) this.inbound.paused = true;
    return ok;
  }

  /** Stop processing pings and close the port (the other end sees its port close). */
  close(): void {
    this.closed = true;
    this.port.close();
  }

  /** Let the process exit while this link is the only thing left (tools, tests). */
  unref(): void {
    this.port.unref();
  }

  private pump(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    let idle = false;
    try {
      idle = this.inbound.drain(this.onFrame);
    } finally {
      this.draining = false;
      // Not idle means no ping will come: continue on our own after other work had a turn,
      // including after a handler threw (the ring must not stall on one bad frame).
      if (!idle && !this.inbound.paused) this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }
}
