import { partitionOf, partitionOfId } from '../engine/partition.js';
import { PARTITIONS } from '../engine/types.js';
import type { Dispatcher } from './dispatcher.js';

/**
 * Which link serves a queue or a job id. Partitions are dealt round-robin to the local shards;
 * in cluster mode a partition served by another node routes to that node's link instead
 * (`setRoute`), and one that is moving routes to its local shard, which answers "not served".
 */
export class ShardRouter {
  readonly shards: number;
  /** link index per partition (the dispatcher's `links`) */
  private readonly route = new Uint16Array(PARTITIONS);

  constructor(readonly dispatcher: Dispatcher) {
    this.shards = dispatcher.shardCount;
    for (let p = 0; p < PARTITIONS; p++) this.route[p] = this.localShardOf(p);
  }

  /** The local shard that serves partition p when this node holds it. */
  localShardOf(partition: number): number {
    return partition % this.shards;
  }

  /** Cluster mode: send partition p's requests to link `link` (a local shard, or another node's link). */
  setRoute(partition: number, link: number): void {
    this.route[partition] = link;
    if (link >= this.shards) this.clustered = true;
  }

  /** Cluster mode (set at start): even one local shard is not the whole broker. */
  clustered = false;

  /** One link serves every partition: commands that could span partitions need no splitting. */
  get single(): boolean {
    return this.shards === 1 && !this.clustered;
  }

  shardOfQueue(queue: string): number {
    return this.route[partitionOf(queue)]!;
  }

  /** Ids that are not positive safe integers go to shard 0, which answers `Job N not found`. */
  shardOfId(id: number): number {
    if (!Number.isSafeInteger(id) || id <= 0) return 0;
    return this.route[partitionOfId(id)]!;
  }

  /**
   * Where an ACKB goes, the rule every surface shares: ids that all live on one shard → that shard
   * takes the request as it is (a number); an invalid or oversized list → shard 0, which words the
   * error; ids on several shards → grouped by shard, for Fanout.ackSplit.
   */
  ackBatchRoute(ids: readonly unknown[] | null, maxBatch: number): number | Map<number, number[]> {
    if (ids === null || ids.length > maxBatch || !ids.every((x) => Number.isSafeInteger(x))) return 0;
    const groups = this.groupIdsByShard(ids as number[]);
    return groups.size === 0 ? 0 : groups.size === 1 ? groups.keys().next().value! : groups;
  }

  /** Ids grouped by owning shard (ACKB across shards), in their order within each group. */
  groupIdsByShard(ids: readonly number[]): Map<number, number[]> {
    const groups = new Map<number, number[]>();
    for (const id of ids) {
      const s = this.shardOfId(id);
      let g = groups.get(s);
      if (!g) groups.set(s, (g = []));
      g.push(id);
    }
    return groups;
  }
}
