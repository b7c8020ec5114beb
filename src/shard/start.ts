import type { LinkEnd } from '../ring/link.js';
import type { ShardStoreConfig } from '../store/shard-store.js';

/** What one shard is told at start, whether it runs inline or on a worker thread. */
export interface ShardOptions {
  index: number;
  count: number;
  keepCompleted: number;
  maxQueues: number;
  maxBatch: number;
  /**
   * Cluster mode (CLUSTER_MODE=1): the shard starts serving no partition, recovers nothing, and
   * serves those the front gives it with `gain` (messages.ts) until `lose`; every commit is fenced
   * as `nodeId`, with `idleMs` bounding a stalled transaction (the agent passes LEASE_TTL_MS).
   * Absent or null: the shard serves `p % count === index` from the start, as a single node does.
   */
  cluster?: ClusterShard | null;
}

export interface ClusterShard {
  nodeId: string;
  idleMs: number;
}

/** What a shard worker thread is started with (structured-clonable). */
export interface ShardWorkerData {
  opts: ShardOptions;
  end: LinkEnd;
  store: ShardStoreConfig | null;
  logLevel: string;
}
