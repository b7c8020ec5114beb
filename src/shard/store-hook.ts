import type { ShardCore, ShardOptions } from './core.js';
import type { ShardStore } from './outbox.js';
import { openPgShardStore, type ShardStoreConfig } from '../store/shard-store.js';

export type OpenedStore = ShardStore & { recover?: (core: ShardCore) => Promise<void> };

/** Opens the shard's durable store (PostgreSQL, src/store); fails when PostgreSQL is unreachable. */
export async function openShardStore(opts: ShardOptions, cfg: ShardStoreConfig): Promise<OpenedStore> {
  return openPgShardStore(opts, cfg);
}
