import type { Socket } from 'node:net';
import { errors, FlashqError, type ErrorCode } from '../../base/errors.js';
import { log } from '../../log.js';
import { encodeError } from '../../protocol/encode.js';
import { scanJsonReqId, scanMsgpackReqId } from '../../protocol/reqid-scan.js';
import { Format } from '../../protocol/result.js';
import { Kind } from '../../ring/kinds.js';
import { mismatch, newNonce, proofMatches, proofOf, readHello, writeWelcome } from './auth.js';
import { ANSWER_HEAD, EVENT_HEAD, HANDSHAKE_MAX_RECORD, NODE_WIDE, Rec, RecordReader, RecordWriter, type RecordSink } from './codec.js';
import type { LinkAnswerSink, LinkEventSink, LocalNode } from './types.js';

export interface SessionOptions {
  nodeId: string;
  secret: string | null;
  local: LocalNode;
  maxRecord: number;
  highWater: number;
  handshakeTimeoutMs: number;
}

/** One client connection of the origin node, as this node knows it: a local connection id of its own. */
class OriginConn implements LinkAnswerSink {
  local = 0;
  /** the local shards its requests went to: they learn when it closes */
  readonly shards = new Set<number>();

  constructor(
    private readonly session: LinkSession,
    readonly origin: number,
    /** a connection speaks one format; an answer too big for the link is replaced by an error in it */
    readonly format: Format,
  ) {}

  deliver(seq: number, code: number, bytes: Uint8Array): void {
    this.session.reply(this.origin, seq, code, bytes, this.format);
  }

  flushOut(): void {
    this.session.scheduleFlush();
  }
}

/**
 * The owner side of one link from an origin node. After the handshake it maps each origin
 * connection to a local connection id, hands requests to the shard that serves their partition
 * (answering at once when this node does not serve it), and writes answers back batched per turn.
 * When an origin connection closes, or the whole link does, the local shards hear that the
 * connection closed: its pulls are cancelled and its leases fail back.
 */
export class LinkSession implements RecordSink {
  private state: 'hello' | 'proof' | 'ready' | 'closed' = 'hello';
  private readonly reader: RecordReader;
  private readonly writer = new RecordWriter();
  private readonly conns = new Map<number, OriginConn>();
  private nonce: Buffer = Buffer.alloc(0);
  private originNonce: Buffer = Buffer.alloc(0);
  private flushQueued = false;
  private unsubscribe: (() => void) | null = null;
  private writeBlocked = false;
  private localPaused = false;
  private readonly deadline: NodeJS.Timeout;
  /** the origin's node id, once its HELLO arrived */
  originId = '';
  readonly peer: string;
  onClose: (() => void) | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly opts: SessionOptions,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.reader = new RecordReader(Math.min(HANDSHAKE_MAX_RECORD, opts.maxRecord));
    this.deadline = setTimeout(() => this.refuse(`no handshake within ${opts.handshakeTimeoutMs} ms`), opts.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk, this));
    socket.on('drain', () => {
      if (this.writeBlocked && socket.writableLength <= opts.highWater) {
        this.writeBlocked = false;
        this.readGate();
      }
    });
    socket.on('error', (e: Error) => log.debug('cluster link session error', { peer: this.peer, node: this.originId, error: e.message }));
    socket.on('close', () => this.closed());
  }

  get connections(): number {
    return this.conns.size;
  }

  /** the local shards are full (true) or drained (false): stop or resume reading this link */
  setLocalPaused(paused: boolean): void {
    this.localPaused = paused;
    this.readGate();
  }

  private readGate(): void {
    if (this.state === 'closed') return;
    if (this.localPaused || this.writeBlocked) this.socket.pause();
    else this.socket.resume();
  }

  /** End the link (this node stops); its connections close locally like a dead link's. */
  destroy(): void {
    this.socket.destroy();
  }

  // ------------------------------------------------------------- sending back

  reply(conn: number, seq: number, code: number, bytes: Uint8Array, format: Format): void {
    if (this.state === 'closed') return;
    if (ANSWER_HEAD - 4 + bytes.length > this.opts.maxRecord) {
      const err = errors.payloadTooLarge(bytes.length, this.opts.maxRecord - ANSWER_HEAD);
      const msg = new FlashqError(err.code, `${err.message}: the answer is too large for the cluster link`);
      this.writer.answer(conn, seq, msg.code, encodeError(format, msg, null));
    } else this.writer.answer(conn, seq, code, bytes);
  }

  /** write the turn once the current task is over, so every sink's answers leave in one write */
  scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.state === 'closed') return;
    const bytes = this.writer.take();
    if (bytes === null) return;
    this.socket.write(bytes);
    if (!this.writeBlocked && this.socket.writableLength > this.opts.highWater) {
      // the origin reads slower than we answer: take no more requests until it caught up
      this.writeBlocked = true;
      this.readGate();
    }
  };

  /** events not sent: the origin did not keep up (events may be shed under load, jobs never) */
  droppedEvents = 0;

  private readonly events: LinkEventSink = {
    event: (type, buf, start, end, qs, qe) => {
      if (this.writeBlocked || EVENT_HEAD - 4 + end - start > this.opts.maxRecord) this.droppedEvents++;
      else this.writer.event(type, buf, start, end, qs, qe);
    },
    endBatch: () => this.scheduleFlush(),
  };

  // ----------------------------------------------------------------- receiving

  request(type: Rec, kind: number, format: number, target: number, conn: number, seq: number, buf: Buffer, start: number, end: number): void {
    if (this.state !== 'ready') return this.refuse('a request before authentication');
    const local = this.opts.local;
    if (type === Rec.CONN_CLOSED) return this.closeConn(conn, true);
    if (type === Rec.CONN_RELEASED) return this.closeConn(conn, false);
    if (kind === Kind.CONTROL) return this.refuse('a control record: lifecycle messages are node-local');
    if (kind === Kind.SHARD_MSG && local.shardMsg !== undefined) return local.shardMsg(target, seq, buf.toString('utf8', start, end));
    if (target === NODE_WIDE) return this.nodeWide(conn, seq, format, buf, start, end);
    const shard = local.shardOfPartition(target);
    if (shard < 0) return this.notServed(conn, seq, format, target, buf, start, end);
    let lc = 0;
    if (conn !== 0) {
      let oc = this.conns.get(conn);
      if (oc === undefined) {
        oc = new OriginConn(this, conn, format);
        oc.local = local.allocConn(oc);
        this.conns.set(conn, oc);
      }
      oc.shards.add(shard);
      lc = oc.local;
    }
    local.send(shard, kind, format, lc, seq, buf.subarray(start, end));
  }

  private notServed(conn: number, seq: number, format: Format, target: number, buf: Buffer, start: number, end: number): void {
    if (conn === 0) return;
    const reqId = format === Format.TcpJson ? scanJsonReqId(buf, start, end) : format === Format.TcpMsgpack ? scanMsgpackReqId(buf, start, end) : null;
    const err = errors.storageUnavailable(`partition ${target} is not served by node ${this.opts.nodeId}`);
    this.writer.answer(conn, seq, err.code, encodeError(format, err, reqId));
    this.scheduleFlush();
  }

  private nodeWide(conn: number, seq: number, format: Format, buf: Buffer, start: number, end: number): void {
    const payload = Uint8Array.prototype.slice.call(buf, start, end) as Uint8Array;
    const done = (code: number, bytes: Uint8Array): void => {
      if (conn === 0 || this.state === 'closed') return;
      this.reply(conn, seq, code, bytes, format);
      this.scheduleFlush();
    };
    this.opts.local.nodeWide(format, payload).then(
      (a) => done(a.code, a.bytes),
      (e: unknown) => {
        const err = e instanceof FlashqError ? e : errors.internal(String(e));
        done(err.code as ErrorCode, encodeError(format, err, null));
      },
    );
  }

  /** The origin connection ended: with `failBack` its pulls and leases here end too (a closed socket). */
  private closeConn(conn: number, failBack: boolean): void {
    const oc = this.conns.get(conn);
    if (oc === undefined) return;
    this.conns.delete(conn);
    if (failBack && oc.shards.size > 0) this.opts.local.connClosed(oc.local, oc.shards);
    else this.opts.local.releaseConn(oc.local);
  }

  answer(): void {
    this.refuse('an answer from the origin side');
  }

  event(): void {
    this.refuse('an event from the origin side');
  }

  control(type: Rec, buf: Buffer, start: number, end: number): void {
    switch (type) {
      case Rec.HELLO:
        return this.hello(buf, start, end);
      case Rec.PROOF:
        return this.proof(buf, start, end);
      case Rec.SUBSCRIBE:
        if (this.state !== 'ready') return this.refuse('SUBSCRIBE before authentication');
        if (buf[start] === 1) this.unsubscribe ??= this.opts.local.subscribeEvents(this.events);
        else {
          this.unsubscribe?.();
          this.unsubscribe = null;
        }
        return;
      case Rec.GOODBYE:
        log.warn('cluster link closed by the origin', { peer: this.peer, node: this.originId, reason: buf.toString('utf8', start, end) });
        this.socket.destroy();
        return;
      default:
        this.refuse(`unexpected record type ${type}`);
    }
  }

  private hello(buf: Buffer, start: number, end: number): void {
    if (this.state !== 'hello') return this.refuse('a second HELLO');
    const h = readHello(Rec.HELLO, buf, start, end);
    if (h === null) return this.refuse('malformed HELLO');
    this.originId = h.nodeId;
    const { secret, nodeId } = this.opts;
    const bad = mismatch(secret, nodeId, h);
    if (bad !== null) return this.refuse(bad);
    if (h.expect !== '' && h.expect !== nodeId) return this.refuse(`this is node ${nodeId}, the origin expected ${h.expect}`);
    this.nonce = newNonce();
    this.originNonce = h.nonce;
    const proof = secret === null ? Buffer.alloc(0) : proofOf(secret, 'owner', h.nonce, this.nonce, h.nodeId, nodeId);
    writeWelcome(this.writer, secret, this.nonce, nodeId, proof);
    this.state = 'proof';
    this.flush();
  }

  private proof(buf: Buffer, start: number, end: number): void {
    if (this.state !== 'proof') return this.refuse('PROOF out of order');
    const { secret, nodeId } = this.opts;
    if (secret !== null) {
      const want = proofOf(secret, 'origin', this.originNonce, this.nonce, this.originId, nodeId);
      if (!proofMatches(buf.subarray(start, end), want)) return this.refuse('authentication failed: wrong CLUSTER_SECRET');
    } else if (end > start) return this.refuse('a proof without a CLUSTER_SECRET');
    this.state = 'ready';
    this.reader.maxRecord = this.opts.maxRecord;
    clearTimeout(this.deadline);
    log.info('cluster link session', { peer: this.peer, node: this.originId });
  }

  corrupt(reason: string): void {
    this.refuse(`protocol error: ${reason}`);
  }

  endChunk(): void {}

  /** Close the link, telling the origin why, and log it with the peer's address. */
  private refuse(reason: string): void {
    if (this.state === 'closed') return;
    log.warn('cluster link refused', { peer: this.peer, node: this.originId, reason });
    const w = new RecordWriter(256);
    w.control(Rec.GOODBYE, Buffer.from(reason.slice(0, 200), 'utf8'));
    this.closed();
    if (this.socket.writable) {
      this.socket.end(w.take()!);
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
  }

  /** The link is over: every origin connection it carried closes here too. */
  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.deadline);
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const oc of this.conns.values()) {
      if (oc.shards.size > 0) this.opts.local.connClosed(oc.local, oc.shards);
      else this.opts.local.releaseConn(oc.local);
    }
    this.conns.clear();
    this.onClose?.();
  }
}
