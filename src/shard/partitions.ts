import { errors } from '../base/errors.js';
import { partitionOf, partitionOfId } from '../engine/partition.js';
import { PARTITIONS } from '../engine/types.js';
import type { Request } from '../protocol/request.js';
import type { Hold } from '../store/fence.js';

/** Where a cluster shard stands with one of its partitions. */
export const enum Stand {
  /** not held (never gained, lost, fenced) */
  None = 0,
  /** gained, loading from PostgreSQL: not served yet */
  Loading = 1,
  Served = 2,
  /** `lose` arrived: not served, but commits in flight may still write it (under its epoch) */
  Leaving = 3,
}

/**
 * The partitions of one cluster shard: which it serves, which are loading or leaving, and the
 * epochs its node holds them at (the fence of every commit). Only cluster shards have one, so a
 * single node's hot path pays nothing for it.
 */
export class ServedPartitions {
  readonly stand = new Uint8Array(PARTITIONS);
  private readonly epochs = new Float64Array(PARTITIONS).fill(-1);
  /** per partition, the load that may complete it (a lose or a new gain makes older loads stale) */
  private readonly loadIds = new Float64Array(PARTITIONS);
  private nextLoad = 1;

  constructor(
    readonly index: number,
    readonly count: number,
  ) {}

  /** Whether partition p is one of this shard's (the front sends each shard only those). */
  isMine(p: number): boolean {
    return Number.isInteger(p) && p >= 0 && p < PARTITIONS && p % this.count === this.index;
  }

  /** The epoch a commit may write p under: while loading, served or leaving (else -1). */
  epochOf(p: number): number {
    return this.stand[p] === Stand.None ? -1 : this.epochs[p]!;
  }

  /** Start loading p at `epoch`; returns the load's id. */
  startLoad(p: number, epoch: number): number {
    this.stand[p] = Stand.Loading;
    this.epochs[p] = epoch;
    const id = this.nextLoad++;
    this.loadIds[p] = id;
    return id;
  }

  /** Whether the load `id` of p is still the one wanted. */
  isCurrentLoad(p: number, id: number): boolean {
    return this.stand[p] === Stand.Loading && this.loadIds[p] === id;
  }

  set(p: number, stand: Stand): void {
    this.stand[p] = stand;
    if (stand === Stand.None) {
      this.epochs[p] = -1;
      this.loadIds[p] = 0;
    }
  }

  served(): Hold[] {
    const out: Hold[] = [];
    for (let p = 0; p < PARTITIONS; p++) if (this.stand[p] === Stand.Served) out.push({ partition: p, epoch: this.epochs[p]! });
    return out;
  }

  /** Refuse a request for a partition this shard does not serve now (global commands pass). */
  check(r: Request): void {
    let p: number;
    switch (r.cmd) {
      case 'JOBS':
      case 'LISTQUEUES':
      case 'STATS':
      case 'METRICS':
      case 'CRONLIST':
      case 'CRONDELETE':
        return;
      case 'ACKB':
        for (let i = 0; i < r.ids.length; i++) this.checkId(r.ids[i]!);
        return;
      default:
        if ('queue' in r) p = partitionOf(r.queue);
        else return this.checkId(r.id);
    }
    if (this.stand[p] !== Stand.Served) throw errors.notServed(p);
  }

  private checkId(id: number): void {
    // not an id at all: the engine answers it as an unknown job
    if (!(Number.isSafeInteger(id) && id > 0)) return;
    const p = partitionOfId(id);
    if (this.stand[p] !== Stand.Served) throw errors.notServed(p);
  }

  /** Whether a queue's partition is served (a deferred push checks again when it completes). */
  servesQueue(queue: string): boolean {
    return this.stand[partitionOf(queue)] === Stand.Served;
  }
}
