import { partitionOf, partitionOfId } from '../engine/partition.js';
import type { Dispatcher } from './dispatcher.js';

/** Which shard owns a queue or a job id: partitions are dealt round-robin to shards. */
export class ShardRouter {
  readonly shards: number;
  constructor(readonly dispatcher: Dispatcher) {
    this.shards = dispatcher.shardCount;
  }

  shardOfQueue(queue: string): number {
    return partitionOf(queue) % this.shards;
  }

  /** Ids that are not positive safe integers go to shard 0, which answers `Job N not found`. */
  shardOfId(id: number): number {
    if (!Number.isSafeInteger(id) || id <= 0) return 0;
    return partitionOfId(id) % this.shards;
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
