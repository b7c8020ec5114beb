import type { Format } from '../../protocol/result.js';

/*
 * The shapes the link shares with the front. They are declared here, structurally equal to
 * front/shard-link.ts `ShardLink` and front/dispatcher.ts `AnswerSink`/`ShardEventSink`, because
 * cluster/ sits below front/ in docs/layers.md: the server hands the front's objects in.
 */

/** A handle on one destination of records; the front's `ShardLink` shape. */
export interface RecordLink {
  readonly index: number;
  /** queue one record for this turn; `payload` is copied before this returns */
  add(kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void;
  /** send what was added this turn; false = the receiver is full, stop reading sockets until `onDrain` */
  flush(): boolean;
  onDrain: (() => void) | null;
  close(): Promise<void>;
}

/** Whoever waits for answers under a connection id; the front's `AnswerSink` shape. */
export interface LinkAnswerSink {
  deliver(seq: number, code: number, bytes: Uint8Array): void;
  flushOut(): void;
}

/** Who reads one turn's events, then endBatch; the front's `ShardEventSink` shape. */
export interface LinkEventSink {
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void;
  endBatch(): void;
}

/**
 * Where the origin side delivers what a peer sends back: the Dispatcher's answer/turnDone, and
 * events under their own name because they happened on another node (its webhooks already fired
 * there; here only WS/SSE subscribers get them).
 */
export interface PeerOutput {
  /** views are valid until the next turnDone */
  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void;
  /** one event of the peer's partitions: type index (EVENT_TYPES), JSON buf[start, end), queue buf[qs, qe) */
  remoteEvent(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void;
  /** the end of what arrived together: write what the sinks buffered, end the event batch */
  turnDone(): void;
}

/** The owner side's view of its own node: what a LinkServer session drives. */
export interface LocalNode {
  allocConn(sink: LinkAnswerSink): number;
  releaseConn(id: number): void;
  send(shard: number, kind: number, format: Format, conn: number, seq: number, payload: Uint8Array): void;
  /** the connection closed: cancel its pulls, fail back its leases on these shards */
  connClosed(conn: number, shards: Iterable<number>): void;
  /** the local shard serving partition p, or -1 when this node does not serve it */
  shardOfPartition(p: number): number;
  /** a request answered by the node as a whole (STATS over its shards), rendered in `format` */
  nodeWide(format: Format, payload: Uint8Array): Promise<{ code: number; bytes: Uint8Array }>;
  /** start receiving this node's own events (not those it got from peers); returns the unsubscribe */
  subscribeEvents(sink: LinkEventSink): () => void;
  /**
   * optional: a SHARD_MSG record (a shard's message about dependencies) for partition `target`
   * (NODE_WIDE: every shard of this node), after `hops` forwards; this node routes it on (its
   * shard, or the partition's owner now, or held until there is one). Without it a shard message
   * goes to the local shard like a request, and is dropped when this node does not serve `target`.
   */
  shardMsg?(target: number, hops: number, json: string): void;
  /** optional back-pressure: called with true when local shards are full (stop reading links) */
  onPause?(listener: (paused: boolean) => void): () => void;
}

/** TLS of the link: the node's certificate serves and presents; `ca` set = peers must present one it signed. */
export interface LinkTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
}
