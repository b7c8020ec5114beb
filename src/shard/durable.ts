import type { RestoreInput } from '../engine/api.js';
import type { Changes } from '../engine/types.js';
import type { Hold } from '../store/fence.js';
import { openPgShardStore, type RecoveryListener, type ShardStoreConfig } from '../store/shard-store.js';
import type { ShardOptions } from './start.js';

/** A shard's durable store as the shard uses it (src/store implements it on PostgreSQL). */
export interface ShardStore {
  /** commit one turn's changes in one transaction */
  commit(changes: Changes): Promise<void>;
  /** whether state-changing commands may be accepted right now */
  readonly available: boolean;
  /** load the committed state (reported to `listener`, which the store keeps for later rebuilds) */
  recover(listener: RecoveryListener): Promise<void>;
  /** cluster mode: load partitions the node took, behind the fence, and hand them to `apply` */
  loadTaken(holds: Hold[], apply: (input: RestoreInput) => void): Promise<void>;
  close(): Promise<void>;
}

/** Opens the shard's durable store; fails when PostgreSQL is unreachable. */
export function openShardStore(opts: ShardOptions, cfg: ShardStoreConfig): Promise<ShardStore> {
  return openPgShardStore(opts, cfg);
}
