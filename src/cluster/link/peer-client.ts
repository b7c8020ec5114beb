import type { Socket } from 'node:net';
import { ErrorCode, errors, type FlashqError } from '../../base/errors.js';
import { log } from '../../log.js';
import { encodeError } from '../../protocol/encode.js';
import { Format } from '../../protocol/result.js';
import { Kind } from '../../ring/kinds.js';
import { mismatch, newNonce, proofMatches, proofOf, readHello, writeHello } from './auth.js';
import { DEFAULT_MAX_RECORD, HANDSHAKE_MAX_RECORD, REQUEST_HEAD, Rec, RecordReader, RecordWriter, type RecordSink } from './codec.js';
import { Inflight } from './inflight.js';
import { dialLink } from './transport.js';
import type { LinkTls, PeerOutput, RecordLink } from './types.js';

export interface PeerClientOptions {
  /** this node's id */
  nodeId: string;
  /** the id the peer must have ('' accepts any: tests, first contact) */
  peerId: string;
  host: string;
  port: number;
  secret: string | null;
  tls: LinkTls | null;
  output: PeerOutput;
  /** largest record body either way (both ends should agree); default 64 MiB */
  maxRecord?: number;
  /** bytes queued in the socket past which `flush` answers false; default 4 MiB */
  highWater?: number;
  /** reconnect delays: doubling from min to max, with jitter; default 50 ms … 2 s */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** connect + TLS + handshake must finish within this; default 10 s */
  handshakeTimeoutMs?: number;
}

type State = 'down' | 'connecting' | 'handshake' | 'ready' | 'closed';

/**
 * The origin side of the link to one peer node: one socket, reconnected with bounded backoff, that
 * every partition of that peer shares. `target(p)` is a link with the front's ShardLink shape, so
 * "partition p lives on node B" is one more link to the Dispatcher. Each turn's records leave in
 * one write. A request travels under its in-flight slot; when the link drops, every request not
 * answered is answered at once with `Storage unavailable` naming the peer, and so is every record
 * flushed while the link is down: nothing waits for a node that is gone.
 */
export class PeerClient implements RecordSink {
  private readonly maxRecord: number;
  private readonly highWater: number;
  private readonly backoffMin: number;
  private readonly backoffMax: number;
  private readonly handshakeMs: number;
  private readonly writer = new RecordWriter();
  private readonly inflight = new Inflight();
  private reader: RecordReader;
  private readonly targets = new Map<number, PeerTarget>();
  /** connections closed this turn: their slots are forgotten at flush */
  private readonly closedConns = new Set<number>();
  /** connections that sent this peer requests and have not closed or been released */
  private readonly conns = new Set<number>();
  private flushScheduled = false;
  /** requests refused before sending (over the size limit), answered at flush */
  private refused: Array<{ conn: number; seq: number; format: number; err: FlashqError }> = [];
  private socket: Socket | null = null;
  private state: State = 'down';
  private nonce: Buffer = Buffer.alloc(0);
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  /** why the link is down, for the error answers and the log */
  private downReason = 'unreachable: not connected yet';
  private blocked = false;
  private wantEvents = false;
  private answeredInChunk = false;
  private closedPromise: Promise<void> | null = null;
  readonly stats = { forwarded: 0, answered: 0, failed: 0, connects: 0 };
  /** called when the link comes up (true) or goes down (false) */
  onState: ((up: boolean) => void) | null = null;

  constructor(private readonly opts: PeerClientOptions) {
    this.maxRecord = opts.maxRecord ?? DEFAULT_MAX_RECORD;
    this.highWater = opts.highWater ?? 4 * 1024 * 1024;
    this.backoffMin = opts.backoffMinMs ?? 50;
    this.backoffMax = opts.backoffMaxMs ?? 2000;
    this.handshakeMs = opts.handshakeTimeoutMs ?? 10_000;
    this.reader = new RecordReader(this.maxRecord);
  }

  get peer(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  /** requests sent (or queued) and not answered */
  get pending(): number {
    return this.inflight.count;
  }

  start(): void {
    if (this.state === 'down' && this.timer === null) this.connect();
  }

  /** The link for one partition of this peer (or NODE_WIDE); `index` is what the caller calls it. */
  target(t: number, index = t): RecordLink {
    let link = this.targets.get(t);
    if (!link) {
      link = new PeerTarget(index, this, t);
      this.targets.set(t, link);
    }
    return link;
  }

  /** Ask the peer to stream its own events (now and after every reconnect), or to stop. */
  subscribe(on: boolean): void {
    if (this.wantEvents === on) return;
    this.wantEvents = on;
    if (this.state === 'ready') {
      this.writer.control(Rec.SUBSCRIBE, Buffer.from([on ? 1 : 0]));
      this.scheduleFlush();
    }
  }

  // ----------------------------------------------------------------- sending

  /**
   * A connection of this node ended without anything to fail back (the front's `releaseConn`: an
   * HTTP request or gRPC unary call answered, a fan-out question): if it ever sent this peer a
   * request, the peer forgets it. Call it for every released connection; it costs a set lookup
   * when the connection never came here. A connection that closes with leases to fail back goes
   * through `add(Kind.CONN_CLOSED)` of the targets it touched instead, like a local shard.
   */
  release(conn: number): void {
    if (!this.conns.delete(conn)) return;
    this.writer.request(Rec.CONN_RELEASED, Kind.CONN_CLOSED, Format.Internal, 0, conn, 0, '');
    this.closedConns.add(conn);
    this.scheduleFlush();
  }

  /** flush outside the Dispatcher's turn (release, subscribe) */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushTurn();
    });
  }

  /** PeerTarget.add: one record of this turn for partition `target` */
  record(target: number, kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    if (kind === Kind.CONN_CLOSED) {
      if (!this.conns.delete(conn)) return;
      this.writer.request(Rec.CONN_CLOSED, kind, Format.Internal, target, conn, 0, '');
      this.closedConns.add(conn);
      return;
    }
    // lifecycle messages (drain, stop, events on/off) are for a node's own shards
    if (kind === Kind.CONTROL) return;
    const size = REQUEST_HEAD - 4 + (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
    if (size > this.maxRecord) {
      if (conn !== 0) this.refused.push({ conn, seq, format, err: errors.payloadTooLarge(size, this.maxRecord) });
      return;
    }
    // conn 0 means nobody reads the answer: nothing to remember
    let wireSeq = seq;
    if (conn !== 0) {
      wireSeq = this.inflight.add(conn, seq, format);
      this.conns.add(conn);
    }
    this.writer.request(Rec.REQUEST, kind, format, target, conn, wireSeq, payload);
    this.stats.forwarded++;
  }

  /** PeerTarget.flush: send the turn; false = the socket is over its high-water mark */
  flushTurn(): boolean {
    if (this.closedConns.size > 0) {
      this.inflight.forget(this.closedConns);
      this.closedConns.clear();
    }
    if (this.refused.length > 0) this.answerRefused();
    switch (this.state) {
      case 'ready': {
        const bytes = this.writer.take();
        if (bytes !== null) this.socket!.write(bytes);
        if (this.socket!.writableLength > this.highWater) this.blocked = true;
        return !this.blocked;
      }
      case 'connecting':
      case 'handshake':
        // held until the handshake ends (then written) or fails (then answered with the error)
        if (this.writer.length > this.highWater) this.blocked = true;
        return !this.blocked;
      default:
        this.failAll(false);
        return true;
    }
  }

  private answerRefused(): void {
    const refused = this.refused;
    this.refused = [];
    for (const r of refused) this.opts.output.answer(r.conn, r.seq, r.err.code, encodeError(r.format, r.err, null));
    this.opts.output.turnDone();
  }

  /**
   * Answer every request not answered yet with the link's error; drop the unsent turn. `sent`:
   * the requests went out on a link that was up, so the owner may have applied them before it
   * (or the link) died; the answer says so, since a retry may then apply them twice (a PUSH
   * without a jobId). Otherwise nothing was sent and a retry is safe.
   */
  private failAll(sent: boolean): void {
    this.writer.reset();
    if (this.state !== 'ready') this.conns.clear();
    if (this.inflight.count === 0) return;
    const to = this.opts.peerId === '' ? this.peer : `node ${this.opts.peerId} (${this.peer})`;
    const what = sent ? `${this.downReason} (the request was in flight: it may have been applied)` : `${this.downReason} (the request was not sent)`;
    const err = errors.storageUnavailable(`cluster link to ${to} ${what}`);
    const byFormat: Array<Uint8Array | undefined> = [];
    const out = this.opts.output;
    this.inflight.drain((conn, seq, format) => {
      const bytes = (byFormat[format] ??= encodeError(format, err, null));
      this.stats.failed++;
      out.answer(conn, seq, ErrorCode.StorageUnavailable, bytes);
    });
    out.turnDone();
  }

  private unblock(): void {
    if (!this.blocked) return;
    this.blocked = false;
    for (const t of this.targets.values()) t.onDrain?.();
  }

  // ------------------------------------------------------------- connection

  private connect(): void {
    this.timer = null;
    this.state = 'connecting';
    this.reader = new RecordReader(Math.min(HANDSHAKE_MAX_RECORD, this.maxRecord));
    const { socket, readyEvent } = dialLink(this.opts.tls, this.opts.host, this.opts.port);
    this.socket = socket;
    let reason: string | null = null;
    this.deadline = setTimeout(() => this.drop(socket, `no handshake within ${this.handshakeMs} ms`), this.handshakeMs);
    socket.once(readyEvent, () => {
      if (this.socket !== socket) return;
      this.state = 'handshake';
      this.nonce = newNonce();
      const hello = new RecordWriter(256);
      writeHello(hello, this.opts.secret, this.nonce, this.opts.nodeId, this.opts.peerId);
      socket.write(hello.take()!);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.reader.push(chunk, this);
    });
    socket.on('drain', () => {
      if (this.socket === socket && socket.writableLength <= this.highWater) this.unblock();
    });
    socket.on('error', (e: Error) => {
      reason ??= e.message;
    });
    socket.on('close', () => this.lost(socket, reason ?? 'connection closed'));
  }

  private deadline: NodeJS.Timeout | null = null;

  /** This socket is over (closed, dropped, refused): answer what it carried, maybe reconnect. */
  private lost(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    const wasUp = this.up;
    this.up = false;
    if (this.state !== 'closed') {
      this.state = 'down';
      this.downReason = `${wasUp ? 'lost' : 'unreachable'}: ${reason}`;
    }
    this.failAll(wasUp);
    this.unblock();
    if (this.state === 'closed') {
      if (wasUp) this.onState?.(false);
    } else if (wasUp) {
      log.warn('cluster link down', { peer: this.peer, node: this.opts.peerId, reason });
      this.onState?.(false);
    } else if (this.attempts === 0) {
      log.warn('cluster link cannot connect', { peer: this.peer, node: this.opts.peerId, reason });
    } else log.debug('cluster link cannot connect', { peer: this.peer, node: this.opts.peerId, reason });
    if (this.state !== 'closed') this.scheduleReconnect();
  }

  private up = false;

  private scheduleReconnect(): void {
    const base = Math.min(this.backoffMax, this.backoffMin * 2 ** Math.min(this.attempts, 16));
    this.attempts++;
    // jitter, so nodes that lost the same peer do not reconnect in lockstep
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  private refuse(socket: Socket, reason: string): void {
    log.warn('cluster link refused', { peer: this.peer, node: this.opts.peerId, reason });
    this.drop(socket, `refused: ${reason}`, true);
  }

  /** End this socket now; with `goodbye` the peer is told why first (it logs the reason). */
  private drop(socket: Socket, reason: string, goodbye = false): void {
    if (this.socket !== socket) return;
    if (goodbye && socket.writable) {
      const w = new RecordWriter(256);
      w.control(Rec.GOODBYE, Buffer.from(reason.slice(0, 200), 'utf8'));
      socket.end(w.take()!);
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
    this.lost(socket, reason);
  }

  /** Stop for good: what is pending is answered with the error, no reconnect. */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.downReason = 'closed: this node is stopping';
    this.state = 'closed';
    this.failAll(this.up);
    this.unblock();
    this.closedPromise = socket === null || socket.destroyed ? Promise.resolve() : new Promise((r) => {
      socket.once('close', () => r());
      socket.destroy();
    });
    return this.closedPromise;
  }

  // ----------------------------------------------------------------- receiving

  request(): void {
    this.protocolError('the peer sent a request to the origin side');
  }

  answer(conn: number, wireSeq: number, code: number, buf: Buffer, start: number, end: number): void {
    if (this.state !== 'ready') return this.protocolError('answer before the handshake ended');
    if (conn === 0) return;
    const seq = this.inflight.take(wireSeq, conn);
    // a connection that closed meanwhile: its slot was forgotten
    if (seq < 0) return;
    this.stats.answered++;
    this.answeredInChunk = true;
    this.opts.output.answer(conn, seq, code, buf.subarray(start, end));
  }

  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void {
    if (this.state !== 'ready') return this.protocolError('event before the handshake ended');
    this.answeredInChunk = true;
    this.opts.output.remoteEvent(type, buf, start, end, qs, qe);
  }

  control(type: Rec, buf: Buffer, start: number, end: number): void {
    const socket = this.socket!;
    if (type === Rec.GOODBYE) {
      const reason = buf.toString('utf8', start, end);
      log.warn('cluster link refused by the peer', { peer: this.peer, node: this.opts.peerId, reason });
      return this.drop(socket, `refused by the peer: ${reason}`);
    }
    if (type !== Rec.WELCOME || this.state !== 'handshake') return this.protocolError(`unexpected record type ${type}`);
    const w = readHello(Rec.WELCOME, buf, start, end);
    if (w === null) return this.protocolError('malformed WELCOME');
    const { secret, nodeId, peerId } = this.opts;
    const bad = mismatch(secret, nodeId, w);
    if (bad !== null) return this.refuse(socket, bad);
    if (peerId !== '' && w.nodeId !== peerId) return this.refuse(socket, `the peer at ${this.peer} is node ${w.nodeId}, not ${peerId}`);
    let proof: Buffer = Buffer.alloc(0);
    if (secret !== null) {
      if (!proofMatches(w.proof, proofOf(secret, 'owner', this.nonce, w.nonce, nodeId, w.nodeId))) {
        return this.refuse(socket, `node ${w.nodeId} failed authentication (its CLUSTER_SECRET differs)`);
      }
      proof = proofOf(secret, 'origin', this.nonce, w.nonce, nodeId, w.nodeId);
    }
    const head = new RecordWriter(256);
    head.control(Rec.PROOF, proof);
    if (this.wantEvents) head.control(Rec.SUBSCRIBE, Buffer.from([1]));
    const held = this.writer.take();
    const first = head.take()!;
    socket.write(held === null ? first : Buffer.concat([first, held]));
    this.state = 'ready';
    this.reader.maxRecord = this.maxRecord;
    this.attempts = 0;
    this.stats.connects++;
    this.up = true;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    log.info('cluster link up', { peer: this.peer, node: w.nodeId });
    this.onState?.(true);
    if (socket.writableLength <= this.highWater) this.unblock();
  }

  corrupt(reason: string): void {
    this.protocolError(reason);
  }

  endChunk(): void {
    if (this.answeredInChunk) {
      this.answeredInChunk = false;
      this.opts.output.turnDone();
    }
  }

  private protocolError(reason: string): void {
    if (this.socket) this.drop(this.socket, `protocol error: ${reason}`, true);
  }
}

/** One partition of a peer, as the Dispatcher sees it: its records share the peer's socket. */
class PeerTarget implements RecordLink {
  onDrain: (() => void) | null = null;

  constructor(
    readonly index: number,
    private readonly peer: PeerClient,
    readonly target: number,
  ) {}

  add(kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    this.peer.record(this.target, kind, format, conn, seq, payload);
  }

  flush(): boolean {
    return this.peer.flushTurn();
  }

  /** the peer's socket belongs to the PeerClient, closed with it */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
