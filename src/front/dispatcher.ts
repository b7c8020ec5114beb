import { Kind } from '../ring/kinds.js';
import { Format } from '../protocol/result.js';
import { encodeControl, type ControlMessage, type FrontToShard } from '../shard/messages.js';
import type { ShardLink, ShardOutput } from './shard-link.js';

/** Whoever waits for answers under a connection id: a TCP connection, an HTTP request, a gRPC call. */
export interface AnswerSink {
  deliver(seq: number, code: number, bytes: Uint8Array): void;
  /** end of a shard turn: write what `deliver` buffered (views into shard frames are valid until then) */
  flushOut(): void;
}

/** Who reads the shards' events: one turn's events, then endBatch. */
export interface ShardEventSink {
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void;
  endBatch(): void;
}

/**
 * The front's switchboard: hands records to shard links (one frame per shard per turn), routes
 * answers back to their sinks by connection id, forwards shard-to-shard messages, and applies
 * back-pressure when a shard's ring is full.
 */
export class Dispatcher implements ShardOutput {
  private readonly sinks = new Map<number, AnswerSink>();
  private readonly dirtySinks = new Set<AnswerSink>();
  private readonly dirtyLinks: boolean[];
  private flushScheduled = false;
  private nextConn = 1;
  private blockedLinks = 0;
  /** per shard: its ring was full and its onDrain has not come yet */
  private blocked: boolean[] = [];
  private readonly pauseListeners = new Set<(paused: boolean) => void>();
  links: ShardLink[] = [];
  /** where job events go (the event bus, while the HTTP listener runs) */
  eventSink: ShardEventSink | null = null;
  private eventsInTurn = false;
  onControl: ((shard: number, msg: ControlMessage) => void) | null = null;

  constructor(readonly shardCount: number) {
    this.dirtyLinks = new Array<boolean>(Math.max(1, shardCount)).fill(false);
  }

  attach(links: ShardLink[]): void {
    this.links = links;
    this.blocked = links.map(() => false);
    this.blockedLinks = 0;
    links.forEach((link, s) => {
      link.onDrain = () => {
        if (!this.blocked[s]) return;
        this.blocked[s] = false;
        this.blockedLinks--;
        if (this.blockedLinks === 0) for (const l of this.pauseListeners) l(false);
      };
    });
  }

  get paused(): boolean {
    return this.blockedLinks > 0;
  }

  /** Called with true when shards are full (stop reading sockets) and false when they drained. */
  onPause(listener: (paused: boolean) => void): () => void {
    this.pauseListeners.add(listener);
    return () => this.pauseListeners.delete(listener);
  }

  allocConn(sink: AnswerSink): number {
    let id = this.nextConn;
    // ids are u32 on the wire; 0 means "nobody reads the answer"
    do {
      id = id >= 0xffffffff ? 1 : id + 1;
    } while (this.sinks.has(id));
    this.nextConn = id;
    this.sinks.set(id, sink);
    return id;
  }

  releaseConn(id: number): void {
    this.sinks.delete(id);
  }

  send(shard: number, kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    this.links[shard]!.add(kind, format, conn, seq, payload);
    this.dirtyLinks[shard] = true;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Tell every shard in `shards` (indices) that a connection closed: leases fail back, pulls cancel. */
  connClosed(conn: number, shards: Iterable<number>): void {
    for (const s of shards) this.send(s, Kind.CONN_CLOSED, Format.Internal, conn, 0, '');
    this.sinks.delete(conn);
  }

  broadcastControl(msg: FrontToShard): void {
    const json = encodeControl(msg);
    for (let s = 0; s < this.links.length; s++) this.send(s, Kind.CONTROL, Format.Internal, 0, 0, json);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (let s = 0; s < this.dirtyLinks.length; s++) {
      if (!this.dirtyLinks[s]) continue;
      this.dirtyLinks[s] = false;
      // a link stays blocked until its one onDrain, however many flushes found it full meanwhile
      if (!this.links[s]!.flush() && !this.blocked[s]) {
        this.blocked[s] = true;
        if (this.blockedLinks === 0) for (const l of this.pauseListeners) l(true);
        this.blockedLinks++;
      }
    }
  };

  // ------------------------------------------------------------- ShardOutput

  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void {
    const sink = this.sinks.get(conn);
    if (!sink) return; // the connection went away; its answers have no reader
    sink.deliver(seq, code, bytes);
    this.dirtySinks.add(sink);
  }

  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void {
    if (this.eventSink === null) return;
    this.eventsInTurn = true;
    this.eventSink.event(type, buf, start, end, qs, qe);
  }

  shardMsg(target: number, json: string): void {
    if (target >= 0 && target < this.links.length) this.send(target, Kind.SHARD_MSG, Format.Internal, 0, 0, json);
  }

  control(shard: number, msg: ControlMessage): void {
    this.onControl?.(shard, msg);
  }

  turnDone(): void {
    if (this.eventsInTurn) {
      this.eventsInTurn = false;
      this.eventSink?.endBatch();
    }
    for (const sink of this.dirtySinks) sink.flushOut();
    this.dirtySinks.clear();
  }

  /** Send one request to one shard on a private connection id and resolve with its answer. */
  ask(shard: number, format: Format, payload: Uint8Array | string): Promise<{ code: number; bytes: Uint8Array }> {
    return new Promise((resolve) => {
      const conn = this.allocConn({
        deliver: (_seq, code, bytes) => {
          this.releaseConn(conn);
          resolve({ code, bytes: Uint8Array.prototype.slice.call(bytes) as Uint8Array });
        },
        flushOut: () => {},
      });
      this.send(shard, Kind.REQUEST, format, conn, 0, payload);
    });
  }

  /**
   * Ask every shard the same internal question and collect the answers (index = shard).
   * Fan-out commands are rare (STATS, METRICS, LISTQUEUES, CRONLIST, the job browser).
   */
  fanout(request: string | ((shard: number) => string)): Promise<Array<{ code: number; bytes: Uint8Array }>> {
    const n = this.links.length;
    return Promise.all(
      Array.from({ length: n }, (_, s) => this.ask(s, Format.Internal, typeof request === 'string' ? request : request(s))),
    );
  }
}
