import { PARTITIONS } from '../engine/types.js';
import { log } from '../log.js';
import { connect, type Sql } from '../store/connection.js';
import { NodeAgent, type LossReason } from './agent.js';
import { currentLeader } from './leader.js';
import { listNodes, type NodeRow } from './membership.js';
import { readPartitions } from './partition-leases.js';
import { migrateCluster } from './schema.js';

/** What the server does when this node starts or stops serving a partition. */
export interface NodeHooks {
  /** load partition p into its local shard; resolves once the shard serves it */
  gain(partition: number, epoch: number): Promise<void>;
  /**
   * stop serving p locally; resolves once the shard dropped it (its commit in flight settled).
   * `returnLeases`: a planned move (the lease is still held): jobs active on p wait again first
   */
  lose(partition: number, returnLeases: boolean): Promise<void>;
  /** where requests for p go changed: `owner` is the node serving it (this node when local), or null */
  routeChanged(partition: number, owner: string | null): void;
  /** the live nodes changed (links to open or close) */
  peersChanged(nodes: ReadonlyArray<NodeRow>): void;
}

export interface ClusterNodeOptions {
  url: string;
  nodeId: string;
  host: string;
  port: number;
  httpPort: number;
  grpcPort: number;
  clusterPort: number;
  leaseTtlMs: number;
}

/** One row of the partition map (GET /cluster/partitions). */
export interface PartitionOwner {
  partition: number;
  owner: string | null;
  epoch: number;
}

/**
 * This node's place in the cluster: runs the node agent on a pool of its own, turns its lease
 * gains and losses into local shard loads and drops, and keeps the view of who serves every
 * other partition (read from the lease table, the only source of truth) for routing.
 *
 * A partition is routed here only once its shard has loaded it, and stops being routed here
 * before the shard drops it; between the two the shard answers "not served", which the client
 * retries. Requests for partitions owned elsewhere go to the owner over the internal link.
 */
export class ClusterNode {
  private readonly sql: Sql;
  readonly agent: NodeAgent;
  /** who serves each partition, as routed: this node only after the load completed */
  private readonly owners: Array<string | null> = new Array<string | null>(PARTITIONS).fill(null);
  private readonly epochs: number[] = new Array<number>(PARTITIONS).fill(-1);
  /** partitions held by the agent at `epoch`, whether loaded yet or not */
  private readonly held = new Map<number, number>();
  private nodes: NodeRow[] = [];
  private refreshTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** counters for /metrics/prometheus */
  readonly stats = { gained: 0, lost: { expired: 0, taken: 0, reassigned: 0, stopped: 0, fenced: 0 } };

  constructor(
    private readonly o: ClusterNodeOptions,
    private readonly hooks: NodeHooks,
  ) {
    this.sql = connect(o.url, { max: 2, name: `flashq cluster ${o.nodeId}` });
    this.agent = new NodeAgent({
      sql: this.sql,
      nodeId: o.nodeId,
      host: o.host,
      port: o.port,
      httpPort: o.httpPort,
      grpcPort: o.grpcPort,
      clusterPort: o.clusterPort,
      leaseTtlMs: o.leaseTtlMs,
      onGained: (p, e) => this.gained(p, e),
      onLost: (p, e, why) => this.lost(p, e, why),
      onLeadership: (term) => {
        log.info(term === null ? 'leadership lost' : 'leadership taken', { node: o.nodeId, term });
      },
      onError: (e) => log.warn('cluster agent pass failed', { node: o.nodeId, error: String(e) }),
    });
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  get isLeader(): boolean {
    return this.agent.term !== null;
  }

  /** Partitions served here now (loaded and within their lease). */
  served(): number[] {
    const out: number[] = [];
    for (let p = 0; p < PARTITIONS; p++) if (this.owners[p] === this.o.nodeId) out.push(p);
    return out;
  }

  ownerOf(partition: number): string | null {
    return this.owners[partition] ?? null;
  }

  /** The node rows last read (live and recently dead), for /cluster/nodes and the links. */
  knownNodes(): ReadonlyArray<NodeRow> {
    return this.nodes;
  }

  partitionMap(): PartitionOwner[] {
    return this.owners.map((owner, partition) => ({ partition, owner, epoch: this.epochs[partition]! }));
  }

  async start(): Promise<void> {
    await migrateCluster(this.sql);
    await this.agent.start();
    await this.refresh();
    this.scheduleRefresh();
  }

  /** Graceful stop: the agent drops and releases every partition (each shard drops it first). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    try {
      await this.agent.stop();
    } catch (e) {
      log.warn('cluster agent stop failed', { node: this.o.nodeId, error: String(e) });
    }
    await this.sql.end({ timeout: 1 });
  }

  /** Leader and node rows for /cluster/nodes (read now, from the database). */
  async describe(): Promise<{ leader: string | null; nodes: NodeRow[] }> {
    const [leader, nodes] = await Promise.all([currentLeader(this.sql), listNodes(this.sql, this.o.leaseTtlMs)]);
    return { leader: leader.owner, nodes };
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    // as often as the agent renews: a moved partition is routed right within a quarter TTL
    this.refreshTimer = setTimeout(
      () => {
        this.refresh()
          .catch((e: unknown) => log.warn('cluster map refresh failed', { node: this.o.nodeId, error: String(e) }))
          .finally(() => this.scheduleRefresh());
      },
      Math.max(50, Math.floor(this.o.leaseTtlMs / 4)),
    );
  }

  /** Read who owns what and which nodes live; reroute what changed. */
  async refresh(): Promise<void> {
    const [rows, nodes] = await Promise.all([readPartitions(this.sql), listNodes(this.sql, this.o.leaseTtlMs)]);
    if (this.stopped) return;
    this.nodes = nodes;
    const live = new Set(nodes.filter((n) => n.live).map((n) => n.nodeId));
    this.hooks.peersChanged(nodes.filter((n) => n.live && n.nodeId !== this.o.nodeId));
    for (const r of rows) {
      if (r.partition >= PARTITIONS) continue;
      // our own partitions are routed by what the shards report, never by a table read
      if (this.held.has(r.partition) || this.owners[r.partition] === this.o.nodeId) continue;
      const owner = r.owner !== null && r.owner !== this.o.nodeId && live.has(r.owner) ? r.owner : null;
      this.epochs[r.partition] = r.epoch;
      this.setOwner(r.partition, owner);
    }
  }

  private setOwner(p: number, owner: string | null): void {
    if (this.owners[p] === owner) return;
    this.owners[p] = owner;
    this.hooks.routeChanged(p, owner);
  }

  private gained(p: number, epoch: number): void {
    this.held.set(p, epoch);
    this.epochs[p] = epoch;
    // until loaded, requests for p go to the shard, which answers "not served": never to the old owner
    this.setOwner(p, null);
    this.hooks.gain(p, epoch).then(
      () => {
        if (this.held.get(p) !== epoch) return; // lost again while loading
        this.stats.gained++;
        this.setOwner(p, this.o.nodeId);
      },
      (e: unknown) => {
        log.error('partition load failed', { node: this.o.nodeId, partition: p, epoch, error: String(e) });
        // still ours: try again rather than hold a lease nobody serves
        const retry = setTimeout(() => {
          if (!this.stopped && this.held.get(p) === epoch) this.gained(p, epoch);
        }, 1000);
        retry.unref();
      },
    );
  }

  private async lost(p: number, epoch: number, why: LossReason): Promise<void> {
    if (this.held.get(p) !== epoch) return;
    this.held.delete(p);
    this.stats.lost[why]++;
    this.setOwner(p, null);
    log.info('partition lost', { node: this.o.nodeId, partition: p, epoch, reason: why });
    // moved by the leader or handed over at a graceful stop, p's active jobs go back to waiting
    // with no attempt spent; lost otherwise (expired, taken), the next owner fails them back
    await this.hooks.lose(p, why === 'reassigned' || why === 'stopped');
  }

  /**
   * A commit of p was refused by the fence: the lease the shard served p under is gone. When p is
   * served here (at the held epoch) the lease is gone whatever the agent believes. When it is not,
   * the refused commit was of an earlier epoch (lost by the lease clock, then taken again at a new
   * epoch while the shard still left the old one, so that gain was refused and waits for its
   * retry): the held lease is valid, and forgetting it would leave p held and served by nobody.
   */
  fenced(p: number): void {
    if (!this.held.has(p) || this.owners[p] !== this.o.nodeId) return;
    this.held.delete(p);
    this.stats.lost.fenced++;
    this.setOwner(p, null);
  }
}
