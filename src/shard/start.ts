import type { LinkEnd } from '../ring/link.js';
import type { ShardStoreConfig } from '../store/shard-store.js';

/** What one shard is told at start, whether it runs inline or on a worker thread. */
export interface ShardOptions {
  index: number;
  count: number;
  keepCompleted: number;
  maxQueues: number;
  maxBatch: number;
}

/** What a shard worker thread is started with (structured-clonable). */
export interface ShardWorkerData {
  opts: ShardOptions;
  end: LinkEnd;
  store: ShardStoreConfig | null;
  logLevel: string;
}
