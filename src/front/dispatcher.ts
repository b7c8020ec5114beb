import { Kind } from '../ring/kinds.js';
import { errors } from '../base/errors.js';
import { encodeError } from '../protocol/encode.js';
import { Format } from '../protocol/result.js';
import { ALL_PARTITIONS, encodeControl, type ControlMessage, type FrontToShard } from '../shard/messages.js';
import { PARTITIONS } from '../engine/types.js';
import type { ShardLink, ShardOutput } from './shard-link.js';

/** Whoever waits for answers under a connection id: a TCP connection, an HTTP request, a gRPC call. */
export interface AnswerSink {
  deliver(seq: number, code: number, bytes: Uint8Array): void;
  /** end of a shard turn: write what `deliver` buffered (views into shard frames are valid until then) */
  flushOut(): void;
}

/** Who reads the shards' events: one turn's events, then endBatch. */
export interface ShardEventSink {
  /** `remote`: the event happened on another node (cluster mode), whose own webhooks fired it */
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number, remote?: boolean): void;
  endBatch(): void;
}

/**
 * The front's switchboard: hands records to shard links (one frame per shard per turn), routes
 * answers back to their sinks by connection id, forwards shard-to-shard messages, and applies
 * back-pressure when a shard's ring is full.
 */
export class Dispatcher implements ShardOutput {
  private readonly sinks = new Map<number, AnswerSink>();
  /** connection ids whose requests went to other nodes (cluster mode): told when released */
  private readonly remoteConns = new Set<number>();
  /** cluster mode: a connection that reached other nodes was released (they forget it) */
  onRemoteRelease: ((conn: number) => void) | null = null;
  private readonly dirtySinks = new Set<AnswerSink>();
  private readonly dirtyLinks: boolean[];
  private flushScheduled = false;
  private nextConn = 1;
  private blockedLinks = 0;
  /** per shard: its ring was full and its onDrain has not come yet */
  private blocked: boolean[] = [];
  private readonly pauseListeners = new Set<(paused: boolean) => void>();
  links: ShardLink[] = [];
  /** what a fan-out asks: every local shard, and in cluster mode each other node as a whole */
  fanoutTargets: number[] = [];
  /** where job events go (the event bus, while the HTTP listener runs) */
  eventSink: ShardEventSink | null = null;
  private eventsInTurn = false;
  /** other nodes reading this node's events (cluster mode): they want every queue's */
  private readonly eventTaps = new Set<ShardEventSink>();
  private tapsInTurn = false;
  private busWants: { on: boolean; queues: readonly string[] | null } = { on: false, queues: null };
  /** the event bus's wish changed (cluster mode passes it on to the other nodes) */
  onEventsWanted: ((on: boolean, queues: readonly string[] | null) => void) | null = null;
  onControl: ((shard: number, msg: ControlMessage) => void) | null = null;
  /** cluster mode: shard messages go by the partition map (a local shard, another node, or held) */
  onShardMsg: ((target: number, json: string) => void) | null = null;

  constructor(readonly shardCount: number) {
    this.dirtyLinks = new Array<boolean>(Math.max(1, shardCount)).fill(false);
  }

  /** The local shards' links, at indices 0 … shardCount − 1. */
  attach(links: ShardLink[]): void {
    this.links = links;
    this.blocked = links.map(() => false);
    this.blockedLinks = 0;
    this.fanoutTargets = links.map((_, s) => s);
    links.forEach((link, s) => this.watchDrain(link, s));
  }

  /**
   * Cluster mode: a link to another node at `index` (≥ shardCount), or none. The router sends
   * a partition's requests to the index it was given for it; fan-outs ask `fanoutTargets`.
   */
  setLink(index: number, link: ShardLink | null): void {
    if (index < this.shardCount) throw new Error(`link ${index} is a local shard's`);
    if (this.blocked[index]) this.unblock(index);
    if (link === null) {
      delete this.links[index];
      return;
    }
    this.links[index] = link;
    this.blocked[index] = false;
    this.watchDrain(link, index);
  }

  private watchDrain(link: ShardLink, s: number): void {
    link.onDrain = () => this.unblock(s);
  }

  private unblock(s: number): void {
    if (!this.blocked[s]) return;
    this.blocked[s] = false;
    this.blockedLinks--;
    if (this.blockedLinks === 0) for (const l of this.pauseListeners) l(false);
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

  /** A request's answer is in (HTTP, unary gRPC, internal asks): forget the id, keep its leases. */
  releaseConn(id: number): void {
    this.sinks.delete(id);
    if (this.remoteConns.size === 0) return;
    if (this.remoteConns.delete(id)) this.onRemoteRelease?.(id);
  }

  send(shard: number, kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    if (shard >= this.shardCount && conn !== 0 && kind === Kind.REQUEST) this.remoteConns.add(conn);
    const link = this.links[shard];
    if (link === undefined) {
      // cluster mode: a caller that routed once (a gRPC stream) and kept the index while its
      // partition moved; the request is answered as refused, the client retries
      if (kind === Kind.REQUEST && conn !== 0) this.refuseUnrouted(conn, seq, format, shard);
      return;
    }
    link.add(kind, format, conn, seq, payload);
    this.dirtyLinks[shard] = true;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Tell every shard in `shards` (indices) that a connection closed: leases fail back, pulls cancel. */
  connClosed(conn: number, shards: Iterable<number>): void {
    for (const s of shards) if (this.links[s] !== undefined) this.send(s, Kind.CONN_CLOSED, Format.Internal, conn, 0, '');
    this.sinks.delete(conn);
    this.remoteConns.delete(conn);
  }

  private refuseUnrouted(conn: number, seq: number, format: Format, index: number): void {
    const err = errors.storageUnavailable(`partition ${index - this.shardCount} moved; retry`);
    const bytes = encodeError(format, err, null);
    queueMicrotask(() => {
      this.answer(conn, seq, err.code, bytes);
      this.turnDone();
    });
  }



  /** One shard's CONTROL record (cluster mode's partition gains and losses). */
  sendControl(shard: number, msg: FrontToShard): void {
    this.send(shard, Kind.CONTROL, Format.Internal, 0, 0, encodeControl(msg));
  }

  broadcastControl(msg: FrontToShard): void {
    const json = encodeControl(msg);
    for (let s = 0; s < this.shardCount; s++) this.send(s, Kind.CONTROL, Format.Internal, 0, 0, json);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (let s = 0; s < this.dirtyLinks.length; s++) {
      if (!this.dirtyLinks[s]) continue;
      this.dirtyLinks[s] = false;
      // a link stays blocked until its one onDrain, however many flushes found it full meanwhile
      const link = this.links[s];
      if (link !== undefined && !link.flush() && !this.blocked[s]) {
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
    if (this.eventTaps.size > 0) {
      this.tapsInTurn = true;
      for (const t of this.eventTaps) t.event(type, buf, start, end, qs, qe);
    }
    if (this.eventSink === null) return;
    this.eventsInTurn = true;
    this.eventSink.event(type, buf, start, end, qs, qe);
  }

  /** An event of another node's partition, for this node's subscribers (not its webhooks). */
  remoteEvent(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void {
    if (this.eventSink === null) return;
    this.eventsInTurn = true;
    this.eventSink.event(type, buf, start, end, qs, qe, true);
  }

  /** The event bus's switch: local shards produce what the bus or another node wants. */
  eventsWanted(on: boolean, queues: readonly string[] | null): void {
    this.busWants = { on, queues };
    this.applyEventWish();
    this.onEventsWanted?.(on, queues);
  }

  /** Another node reads this node's events; returns the unsubscribe. */
  tapEvents(sink: ShardEventSink): () => void {
    this.eventTaps.add(sink);
    this.applyEventWish();
    return () => {
      if (this.eventTaps.delete(sink)) this.applyEventWish();
    };
  }

  private applyEventWish(): void {
    const tapped = this.eventTaps.size > 0;
    const on = this.busWants.on || tapped;
    const queues = tapped ? null : this.busWants.queues;
    this.broadcastControl({ op: 'events', on, queues: on && queues ? [...queues] : null });
  }

  /** A shard's message for whoever serves partition `target` (ALL_PARTITIONS: every shard). */
  shardMsg(target: number, json: string): void {
    if (this.onShardMsg !== null) this.onShardMsg(target, json);
    else if (target >= 0 && target < PARTITIONS) this.send(target % this.shardCount, Kind.SHARD_MSG, Format.Internal, 0, 0, json);
    else if (target === ALL_PARTITIONS) this.toShards(json);
  }

  /** A shard message for every local shard. */
  toShards(json: string): void {
    for (let s = 0; s < this.shardCount; s++) this.send(s, Kind.SHARD_MSG, Format.Internal, 0, 0, json);
  }

  /** A shard message down link `index` (cluster mode: a local shard or another node's), `hops` forwards so far. */
  shardMsgTo(index: number, json: string, hops = 0): void {
    this.send(index, Kind.SHARD_MSG, Format.Internal, 0, hops, json);
  }

  control(shard: number, msg: ControlMessage): void {
    this.onControl?.(shard, msg);
  }

  turnDone(): void {
    if (this.eventsInTurn) {
      this.eventsInTurn = false;
      this.eventSink?.endBatch();
    }
    if (this.tapsInTurn) {
      this.tapsInTurn = false;
      for (const t of this.eventTaps) t.endBatch();
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
   * Ask every fan-out target (or only the local shards) the same internal question and collect
   * the answers. Fan-out commands are rare (STATS, METRICS, LISTQUEUES, CRONLIST, the job browser).
   */
  fanout(request: string, localOnly = false): Promise<Array<{ code: number; bytes: Uint8Array }>> {
    return Promise.all(this.targets(localOnly).map((s) => this.ask(s, Format.Internal, request)));
  }

  targets(localOnly: boolean): number[] {
    return localOnly ? this.fanoutTargets.filter((s) => s < this.shardCount) : this.fanoutTargets;
  }
}
