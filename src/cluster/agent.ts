import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PARTITIONS } from '../engine/types.js';
import type { Sql } from '../store/connection.js';
import { assign } from './assignment.js';
import { assertHolds, FencedError, type Hold } from './fencing.js';
import { claimLeadership, renewLeadership, resignLeadership } from './leader.js';
import { LeaseClock } from './lease-clock.js';
import { heartbeat, join, leave, liveNodes, pruneNodes, type NodeAddress } from './membership.js';
import { acquireAssigned, readPartitions, releaseHeld, renewHeld, writeAssignment } from './partition-leases.js';

/** Why a node stopped serving a partition. */
export type LossReason = 'expired' | 'taken' | 'reassigned' | 'stopped';

export interface AgentOptions extends NodeAddress {
  /** a pool of its own (the agent's statements must not queue behind the store's commits) */
  sql: Sql;
  leaseTtlMs: number;
  /** renewal period; default a quarter of the TTL */
  renewEveryMs?: number;
  /** how long before the lease could expire elsewhere the node stops serving; default TTL / 5 */
  marginMs?: number;
  /** monotonic milliseconds; default performance.now */
  now?: () => number;
  /** size of the partition space (tests use fewer) */
  partitions?: number;
  /** serve the partition from now on (after reloading it); its commits fence on `epoch` */
  onGained?: (partition: number, epoch: number) => void;
  /**
   * Stop serving the partition. For 'reassigned' and 'stopped' the lease is released only after
   * the returned promise settles, so the next owner cannot start before this one stopped.
   */
  onLost?: (partition: number, epoch: number, reason: LossReason) => void | Promise<void>;
  /** this node became leader (term) or stopped being it (null) */
  onLeadership?: (term: number | null) => void;
  /** a pass failed (PostgreSQL unreachable …); the agent keeps trying */
  onError?: (error: unknown) => void;
}

/**
 * One node's membership, leadership and partition leases, kept on timers: every `renewEveryMs` a
 * pass heartbeats, renews or claims the leader lease, lets the leader rebalance the partitions
 * over live nodes, renews this node's partition leases (releasing those the leader moved away),
 * and takes the partitions assigned to it. Separately, the lease clock drops every partition whose
 * local deadline passes without a renewal, even while PostgreSQL does not answer.
 */
export class NodeAgent {
  readonly incarnation = randomUUID();
  private readonly clock: LeaseClock;
  private readonly held = new Map<number, number>();
  private readonly renewEveryMs: number;
  private readonly partitions: number;
  private leaderTerm: number | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: AgentOptions) {
    this.clock = new LeaseClock(o.leaseTtlMs, o.marginMs ?? Math.floor(o.leaseTtlMs / 5), o.now ?? (() => performance.now()));
    this.renewEveryMs = o.renewEveryMs ?? Math.max(1, Math.floor(o.leaseTtlMs / 4));
    this.partitions = o.partitions ?? PARTITIONS;
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** The leader term this node holds, or null. */
  get term(): number | null {
    return this.leaderTerm;
  }

  /** The partitions this node may serve now, with their epochs. */
  holds(): Hold[] {
    const out: Hold[] = [];
    for (const [partition, epoch] of this.held) if (this.clock.valid(partition)) out.push({ partition, epoch });
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** Register and run the first pass; later passes follow on the timer. */
  async start(): Promise<void> {
    await join(this.o.sql, this.o, this.incarnation);
    await this.pass();
  }

  /**
   * Inside a commit transaction: check locally, then in the database, that this node still holds
   * every partition of `partitions` at the epoch it took it at. Throws FencedError otherwise.
   */
  async fence(tx: Parameters<typeof assertHolds>[0], partitions: Iterable<number>): Promise<void> {
    const holds: Hold[] = [];
    for (const p of partitions) {
      const epoch = this.held.get(p);
      if (epoch === undefined || !this.clock.valid(p)) {
        throw new FencedError(this.o.nodeId, [{ partition: p, epoch: epoch ?? -1 }], `node ${this.o.nodeId} does not hold partition ${p}`);
      }
      holds.push({ partition: p, epoch });
    }
    await assertHolds(tx, this.o.nodeId, holds, this.o.leaseTtlMs);
  }

  /** Graceful stop: stop serving, release every lease, resign, deregister. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.running?.catch(() => {});
    const holds = [...this.held].map(([partition, epoch]) => ({ partition, epoch }));
    await this.lose(holds, 'stopped');
    const sql = this.o.sql;
    await releaseHeld(sql, this.o.nodeId, holds);
    if (this.leaderTerm !== null) await resignLeadership(sql, this.o.nodeId, this.leaderTerm);
    this.setLeader(null);
    await leave(sql, this.o.nodeId, this.incarnation);
  }

  private pass(): Promise<void> {
    const run = this.passOnce().catch((e: unknown) => this.o.onError?.(e));
    this.running = run.finally(() => {
      this.running = null;
      if (!this.stopped) this.tickTimer = setTimeout(() => void this.pass(), this.renewEveryMs);
    });
    return this.running;
  }

  private async passOnce(): Promise<void> {
    const { sql, nodeId: me, leaseTtlMs: ttl } = this.o;
    const beat = await heartbeat(sql, me, this.incarnation);
    if (beat === 'missing') await join(sql, this.o, this.incarnation);
    if (beat === 'displaced') {
      // another process registered this NODE_ID after us: it owns the id's leases now
      this.stopped = true;
      await this.lose([...this.held].map(([partition, epoch]) => ({ partition, epoch })), 'taken');
      this.setLeader(null);
      throw new Error(`node id ${me} was registered by another process; this agent stops`);
    }
    await this.lead();
    if (this.stopped) return;

    const renewStart = this.clock.start();
    const renewed = await renewHeld(sql, me, ttl, [...this.held].map(([partition, epoch]) => ({ partition, epoch })));
    const kept = new Set<number>();
    const moved: Hold[] = [];
    for (const r of renewed) {
      if (this.held.get(r.partition) !== r.epoch) continue; // dropped by the lease clock meanwhile
      kept.add(r.partition);
      this.clock.renewed(r.partition, renewStart);
      if (r.assignedTo !== me) moved.push(r);
    }
    const taken = [...this.held].filter(([p]) => !kept.has(p)).map(([partition, epoch]) => ({ partition, epoch }));
    await this.lose(taken, 'taken');
    if (moved.length > 0) {
      await this.lose(moved, 'reassigned');
      await releaseHeld(sql, me, moved);
    }
    if (this.stopped) return;

    const takeStart = this.clock.start();
    const gained = await acquireAssigned(sql, me, ttl, [...this.held.keys()]);
    for (const g of gained) {
      this.held.set(g.partition, g.epoch);
      this.clock.renewed(g.partition, takeStart);
    }
    this.armExpiry();
    for (const g of gained) this.o.onGained?.(g.partition, g.epoch);
  }

  /** Keep or claim the leader lease; as leader, rebalance the partitions over live nodes. */
  private async lead(): Promise<void> {
    const { sql, nodeId: me, leaseTtlMs: ttl } = this.o;
    if (this.leaderTerm !== null && !(await renewLeadership(sql, me, this.leaderTerm, ttl))) this.setLeader(null);
    if (this.leaderTerm === null) {
      const term = await claimLeadership(sql, me, ttl);
      if (term !== null) this.setLeader(term);
    }
    if (this.leaderTerm === null) return;
    const live = new Set(await liveNodes(sql, ttl));
    const rows = await readPartitions(sql);
    const current = rows.slice(0, this.partitions).map((r) => {
      if (r.assignedTo !== null && live.has(r.assignedTo)) return r.assignedTo;
      return r.owner !== null && live.has(r.owner) ? r.owner : null;
    });
    const next = assign(current, live);
    if (rows.some((r, p) => p < this.partitions && r.assignedTo !== next[p])) {
      if ((await writeAssignment(sql, me, this.leaderTerm, next)) === null) this.setLeader(null);
    }
    await pruneNodes(sql, 10 * ttl);
  }

  private setLeader(term: number | null): void {
    if (term === this.leaderTerm) return;
    this.leaderTerm = term;
    this.o.onLeadership?.(term);
  }

  private async lose(holds: ReadonlyArray<Hold>, reason: LossReason): Promise<void> {
    for (const h of holds) {
      if (this.held.get(h.partition) !== h.epoch) continue;
      this.held.delete(h.partition);
      this.clock.forget(h.partition);
      await this.o.onLost?.(h.partition, h.epoch, reason);
    }
  }

  /** One timer at the earliest local deadline: partitions not renewed by then are dropped. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const wait = this.clock.nextExpiryIn();
    if (wait === null || this.stopped) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      for (const p of this.clock.expire()) {
        const epoch = this.held.get(p);
        if (epoch === undefined) continue;
        this.held.delete(p);
        void Promise.resolve(this.o.onLost?.(p, epoch, 'expired')).catch((e: unknown) => this.o.onError?.(e));
      }
      this.armExpiry();
    }, wait + 1);
  }
}
