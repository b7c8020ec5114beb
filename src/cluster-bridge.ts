import type { Config } from './config.js';
import { log } from './log.js';
import { ErrorCode, errors, FlashqError } from './base/errors.js';
import { PARTITIONS } from './engine/types.js';
import { ClusterNode } from './cluster/node.js';
import type { NodeRow } from './cluster/membership.js';
import { NODE_WIDE } from './cluster/link/codec.js';
import { LinkServer } from './cluster/link/link-server.js';
import { PeerClient } from './cluster/link/peer-client.js';
import { ShardMail } from './cluster/shard-mail.js';
import type { LinkTls, LocalNode } from './cluster/link/types.js';
import type { Dispatcher } from './front/dispatcher.js';
import type { ClusterMetrics, ClusterView } from './front/parts.js';
import { CRON_DROP, type Fanout } from './front/fanout.js';
import type { ShardRouter } from './front/shard-router.js';
import { RequestDecoder } from './protocol/decode.js';
import { AnswerEncoder, encodeError } from './protocol/encode.js';
import { Format } from './protocol/result.js';
import type { PartitionReport } from './shard/messages.js';

/** One node's answer to a node-wide question (`askEachPeer`): its data, or why it gave none. */
export type PeerAnswer = { node: string; data: unknown; error?: undefined } | { node: string; code: ErrorCode; error: string };

/** A peer node's link and the dispatcher index of its node-wide target. */
interface Peer {
  client: PeerClient;
  row: NodeRow;
  /** dispatcher index of the node as a whole (fan-outs) */
  wide: number;
}

/**
 * Cluster mode's glue between the node's leases (ClusterNode), its links to the other nodes
 * (PeerClient / LinkServer) and the front (router, dispatcher, fan-out):
 * - a partition gained is loaded into its local shard, then routed there; a partition lost is
 *   routed away first, then dropped by its shard;
 * - a partition served by another node routes to that node's link (dispatcher index
 *   shards + p), and fan-outs also ask each other node as a whole (shards + PARTITIONS + k);
 * - requests arriving over the link from other nodes run here as if from a client connection.
 */
export class ClusterBridge implements ClusterView {
  readonly node: ClusterNode;
  private readonly links: LinkServer;
  private readonly peers = new Map<string, Peer>();
  private readonly freeWide: number[] = [];
  private nextWide: number;
  private readonly tls: LinkTls | null;
  /** resolvers of gain/lose requests by partition, until the shard reports */
  private readonly pendingGain = new Map<number, (error?: string) => void>();
  private readonly pendingLose = new Map<number, (error?: string) => void>();
  private eventsOn = false;
  private readonly gainBatch = new Map<number, { partitions: number[]; epochs: number[] }>();
  private gainScheduled = false;
  private readonly decoder = new RequestDecoder();
  private readonly encoder = new AnswerEncoder();
  /** node-wide questions the other nodes ask by name (`askPeers`), beyond the fan-out commands */
  private readonly nodeOps = new Map<string, () => unknown>();
  /** counts of links closed since (metrics stay cumulative) */
  private forwardedBefore = 0;
  private failedBefore = 0;
  /** shard messages (dependencies across partitions) by partition, to this node's shards or the owner's */
  private readonly mail: ShardMail;

  constructor(
    private readonly config: Config,
    private readonly dispatcher: Dispatcher,
    private readonly router: ShardRouter,
    private readonly fanout: Fanout,
    ports: { tcp: number },
  ) {
    const n = dispatcher.shardCount;
    this.nextWide = n + PARTITIONS;
    const t = config.tls;
    this.tls = t === null ? null : { cert: t.cert, key: t.key, ca: t.ca };
    this.node = new ClusterNode(
      {
        url: config.databaseUrl!,
        nodeId: config.nodeId,
        host: config.nodeHost,
        port: ports.tcp,
        httpPort: config.httpPort,
        grpcPort: config.grpcPort,
        clusterPort: config.clusterPort,
        leaseTtlMs: config.leaseTtlMs,
      },
      {
        gain: (p, e) => this.gain(p, e),
        lose: (p, returnLeases) => this.lose(p, returnLeases),
        routeChanged: (p, owner) => this.reroute(p, owner),
        peersChanged: (rows) => this.syncPeers(rows),
      },
    );
    this.links = new LinkServer({ nodeId: config.nodeId, secret: config.clusterSecret, tls: this.tls, local: this.localNode() });
    router.clustered = true;
    this.mail = this.newMail();
    dispatcher.onShardMsg = (target, json) => this.mail.route(target, json);
    dispatcher.onRemoteRelease = (conn) => {
      for (const p of this.peers.values()) p.client.release(conn);
    };
    dispatcher.onEventsWanted = (on) => {
      this.eventsOn = on;
      for (const p of this.peers.values()) p.client.subscribe(on);
    };
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  get isLeader(): boolean {
    return this.node.isLeader;
  }

  served(): number[] {
    return this.node.served();
  }

  partitionMap(): ReturnType<ClusterNode['partitionMap']> {
    return this.node.partitionMap();
  }

  describe(): ReturnType<ClusterNode['describe']> {
    return this.node.describe();
  }

  metrics(): ClusterMetrics {
    let forwarded = 0;
    let forwardFailed = 0;
    let connected = 0;
    for (const p of this.peers.values()) {
      forwarded += p.client.stats.forwarded;
      forwardFailed += p.client.stats.failed;
      if (p.client.connected) connected++;
    }
    const s = this.node.stats;
    return {
      isLeader: this.node.isLeader,
      served: this.node.served().length,
      gained: s.gained,
      lost: { ...s.lost },
      forwarded: forwarded + this.forwardedBefore,
      forwardFailed: forwardFailed + this.failedBefore,
      peers: this.peers.size,
      peersConnected: connected,
    };
  }

  /** Listen for other nodes, then join: partitions arrive through the agent's passes. */
  async start(): Promise<void> {
    await this.links.listen(this.config.clusterPort, this.config.host);
    await this.node.start();
  }

  /** Leave: every partition is dropped here and released for the others, then the links close. */
  async stop(): Promise<void> {
    await this.node.stop();
    await this.links.close();
    await Promise.all([...this.peers.values()].map((p) => p.client.close()));
    this.peers.clear();
  }

  /** Answer node-wide question `op` of the other nodes with `answer()` (a value or a promise of one, as JSON). */
  handleOp(op: string, answer: () => unknown): void {
    this.nodeOps.set(op, answer);
  }

  /** Ask every other node `op` (see handleOp): their answers, or the first node's refusal as the error. */
  async askPeers(op: string): Promise<unknown[]> {
    return (await this.askEachPeer(op)).map((a) => {
      if (a.error !== undefined) throw new FlashqError(a.code, `node ${a.node}: ${a.error}`);
      return a.data;
    });
  }

  /**
   * Ask every other node `op`: each node's answer, or why it gave none (its refusal, its link
   * down, no answer within `timeoutMs`), for questions that can do with the nodes that answered.
   */
  askEachPeer(op: string, timeoutMs = Infinity): Promise<PeerAnswer[]> {
    const request = JSON.stringify({ op });
    return Promise.all(
      [...this.peers.values()].map(async (p): Promise<PeerAnswer> => {
        const node = p.row.nodeId;
        const asked = this.dispatcher.ask(p.wide, Format.Internal, request);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<null>((resolve) => {
          if (timeoutMs !== Infinity) timer = setTimeout(() => resolve(null), timeoutMs);
        });
        const a = await Promise.race([asked, late]);
        clearTimeout(timer);
        if (a === null) return { node, code: ErrorCode.StorageUnavailable, error: `no answer within ${timeoutMs} ms` };
        const body = JSON.parse(Buffer.from(a.bytes).toString('utf8')) as { data?: unknown; error?: string };
        return a.code === 0 ? { node, data: body.data } : { node, code: a.code as ErrorCode, error: body.error ?? 'no answer' };
      }),
    );
  }

  /** What the local shards report about partitions (Server.onControl passes these on). */
  onShardControl(msg: PartitionReport): void {
    switch (msg.op) {
      case 'gained':
        for (const p of msg.partitions) this.settle(this.pendingGain, p);
        break;
      case 'gainFailed':
        for (const p of msg.partitions) this.settle(this.pendingGain, p, msg.error);
        break;
      case 'lost':
        for (const p of msg.partitions) this.settle(this.pendingLose, p);
        break;
      case 'fenced':
        for (const p of msg.partitions) this.node.fenced(p);
        break;
      default:
        msg satisfies never;
    }
  }

  private settle(pending: Map<number, (error?: string) => void>, p: number, error?: string): void {
    const done = pending.get(p);
    pending.delete(p);
    done?.(error);
  }

  private gain(p: number, epoch: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingGain.set(p, (error) => (error === undefined ? resolve() : reject(new Error(error))));
      // one agent pass gains many partitions at once (a failover): each shard loads them in one
      // read of the jobs table instead of one read per partition
      const shard = this.router.localShardOf(p);
      let batch = this.gainBatch.get(shard);
      if (batch === undefined) this.gainBatch.set(shard, (batch = { partitions: [], epochs: [] }));
      batch.partitions.push(p);
      batch.epochs.push(epoch);
      if (!this.gainScheduled) {
        this.gainScheduled = true;
        setImmediate(() => {
          this.gainScheduled = false;
          for (const [s, b] of this.gainBatch) this.dispatcher.sendControl(s, { op: 'gain', partitions: b.partitions, epochs: b.epochs });
          this.gainBatch.clear();
        });
      }
    });
  }

  private lose(p: number, returnLeases: boolean): Promise<void> {
    return new Promise((resolve) => {
      // a load still running for p is cancelled by the drop; one not sent yet is not sent
      this.settle(this.pendingGain, p, 'lost while loading');
      const batch = this.gainBatch.get(this.router.localShardOf(p));
      const k = batch === undefined ? -1 : batch.partitions.indexOf(p);
      if (k >= 0) {
        batch!.partitions.splice(k, 1);
        batch!.epochs.splice(k, 1);
      }
      this.pendingLose.set(p, () => resolve());
      this.dispatcher.sendControl(this.router.localShardOf(p), { op: 'lose', partitions: [p], returnLeases });
    });
  }

  /** Route partition p to its owner: a local shard, another node's link, or (moving) the local shard. */
  private reroute(p: number, owner: string | null): void {
    const index = this.dispatcher.shardCount + p;
    const peer = owner === null || owner === this.config.nodeId ? undefined : this.peers.get(owner);
    if (peer === undefined) {
      this.router.setRoute(p, this.router.localShardOf(p));
      this.dispatcher.setLink(index, null);
    } else {
      this.dispatcher.setLink(index, peer.client.target(p, index));
      this.router.setRoute(p, index);
    }
    this.mail.routeChanged(p);
  }

  private syncPeers(rows: ReadonlyArray<NodeRow>): void {
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.nodeId);
      const known = this.peers.get(row.nodeId);
      if (known && known.row.host === row.host && known.row.clusterPort === row.clusterPort) continue;
      if (known) this.dropPeer(row.nodeId, known);
      this.addPeer(row);
    }
    for (const [id, peer] of this.peers) if (!seen.has(id)) this.dropPeer(id, peer);
    this.dispatcher.fanoutTargets = [
      ...Array.from({ length: this.dispatcher.shardCount }, (_, s) => s),
      ...[...this.peers.values()].map((p) => p.wide),
    ];
  }

  private addPeer(row: NodeRow): void {
    const client = new PeerClient({
      nodeId: this.config.nodeId,
      peerId: row.nodeId,
      host: row.host,
      port: row.clusterPort,
      secret: this.config.clusterSecret,
      tls: this.tls,
      output: {
        answer: (conn, seq, code, bytes) => this.dispatcher.answer(conn, seq, code, bytes),
        remoteEvent: (type, buf, start, end, qs, qe) => this.dispatcher.remoteEvent(type, buf, start, end, qs, qe),
        turnDone: () => this.dispatcher.turnDone(),
      },
    });
    const wide = this.freeWide.pop() ?? this.nextWide++;
    const peer: Peer = { client, row, wide };
    this.peers.set(row.nodeId, peer);
    this.dispatcher.setLink(wide, client.target(NODE_WIDE, wide));
    client.onState = (up) => {
      if (up) this.mail.peerUp(row.nodeId);
    };
    client.start();
    if (this.eventsOn) client.subscribe(true);
    // partitions the map already gives this node can be routed now
    for (let p = 0; p < PARTITIONS; p++) if (this.node.ownerOf(p) === row.nodeId) this.reroute(p, row.nodeId);
    log.info('cluster peer', { node: this.config.nodeId, peer: row.nodeId, host: row.host, port: row.clusterPort });
  }

  private dropPeer(id: string, peer: Peer): void {
    this.peers.delete(id);
    this.forwardedBefore += peer.client.stats.forwarded;
    this.failedBefore += peer.client.stats.failed;
    for (let p = 0; p < PARTITIONS; p++) if (this.node.ownerOf(p) === id) this.reroute(p, null);
    this.dispatcher.setLink(peer.wide, null);
    this.freeWide.push(peer.wide);
    void peer.client.close();
  }

  private newMail(): ShardMail {
    const d = this.dispatcher;
    return new ShardMail({
      nodeId: this.config.nodeId,
      ownerOf: (p) => this.node.ownerOf(p),
      toLocal: (p, json) => d.shardMsgTo(this.router.localShardOf(p), json),
      toAllLocal: (json) => d.toShards(json),
      toPeer: (owner, p, json, hops) => {
        const index = d.shardCount + p;
        if (this.peers.get(owner)?.client.connected !== true || d.links[index] === undefined) return false;
        // the seq of a message nobody answers carries how often it was forwarded
        d.shardMsgTo(index, json, hops);
        return true;
      },
      toAllPeers: (json) => {
        for (const p of this.peers.values()) d.shardMsgTo(p.wide, json, 1);
      },
    });
  }

  /** This node as the other nodes' links drive it. */
  private localNode(): LocalNode {
    const d = this.dispatcher;
    return {
      allocConn: (sink) => d.allocConn(sink),
      releaseConn: (id) => d.releaseConn(id),
      send: (shard, kind, format, conn, seq, payload) => d.send(shard, kind, format, conn, seq, payload),
      connClosed: (conn, shards) => d.connClosed(conn, shards),
      shardOfPartition: (p) => (this.node.ownerOf(p) === this.config.nodeId ? this.router.localShardOf(p) : -1),
      nodeWide: (format, payload) => this.nodeWide(format, payload),
      subscribeEvents: (sink) => d.tapEvents(sink),
      onPause: (listener) => d.onPause(listener),
      shardMsg: (target, hops, json) => this.mail.route(target, json, hops),
    };
  }

  /** A request another node asks of this node as a whole: its shards only, merged here. */
  private async nodeWide(format: Format, payload: Uint8Array): Promise<{ code: number; bytes: Uint8Array }> {
    try {
      if (format !== Format.Internal) throw errors.internal(`a node-wide request must be internal, got format ${format}`);
      const msg = JSON.parse(Buffer.from(payload).toString('utf8')) as { op?: unknown; name?: unknown; keep?: unknown; cmd?: unknown };
      const op = typeof msg.op === 'string' ? this.nodeOps.get(msg.op) : undefined;
      if (op !== undefined) return { code: 0, bytes: Buffer.from(JSON.stringify({ data: (await op()) ?? null })) };
      if (msg.op === CRON_DROP && typeof msg.name === 'string' && typeof msg.keep === 'number') {
        const keep = msg.keep >= 0 && this.node.ownerOf(msg.keep) === this.config.nodeId ? this.router.localShardOf(msg.keep) : -1;
        this.fanout.cronDropElsewhere(msg.name, keep);
        return { code: 0, bytes: this.encoder.answer(Format.Internal, { cmd: 'CRONDELETE', name: msg.name }, { kind: 'ok' }, null) };
      }
      if (msg.cmd === 'CRONDELETE') return await this.fanout.cronDelete(payload, format, true);
      const { request } = this.decoder.decode(Format.Internal, payload);
      return { code: 0, bytes: this.encoder.answer(Format.Internal, request, await this.fanout.result(request, true), null) };
    } catch (e) {
      const err = e instanceof FlashqError ? e : errors.internal(String(e));
      return { code: err.code, bytes: encodeError(Format.Internal, err, null) };
    }
  }
}
