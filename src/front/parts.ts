import type { ClusterMetrics } from '../metrics/prometheus.js';
import type { Config } from '../config.js';
import type { Auth } from './auth.js';
import type { Dispatcher } from './dispatcher.js';
import type { Fanout } from './fanout.js';
import type { ConnectionLimit } from './limits.js';
import type { ShardRouter } from './shard-router.js';

/**
 * What every listener is built from: the switchboard to the shards, routing by queue or id, the
 * fan-out merges, auth and the configuration. The server assembles it at each start; listeners
 * never see the server itself.
 */
export interface FrontParts {
  readonly config: Config;
  readonly dispatcher: Dispatcher;
  readonly router: ShardRouter;
  readonly fanout: Fanout;
  readonly auth: Auth;
  /** MAX_CONNECTIONS, counted over every listener */
  readonly limit: ConnectionLimit;
}

export type { ClusterMetrics };

/** A node's cluster membership as /health, /cluster/nodes and /cluster/partitions show it. */
export interface ClusterView {
  readonly nodeId: string;
  readonly isLeader: boolean;
  /** partitions served by this node now */
  served(): number[];
  /** who serves each partition, as this node routes it (null while a partition moves) */
  partitionMap(): Array<{ partition: number; owner: string | null; epoch: number }>;
  /** read from the database now: the leader and every registered node */
  describe(): Promise<{
    leader: string | null;
    nodes: Array<{ nodeId: string; host: string; port: number; httpPort?: number; grpcPort?: number; startedAt: Date; heartbeatAt: Date; live: boolean }>;
  }>;
  /** counters for /metrics/prometheus */
  metrics(): ClusterMetrics;
}


/** The server as /settings, /health and the shutdown and restart routes see it. */
export interface ServerControl {
  readonly startedAt: number;
  /** the TCP port actually bound (PORT may be 0 in tests) */
  readonly tcpPort: number;
  readonly shardCount: number;
  /** null without DATABASE_URL; else whether every shard's store is available */
  readonly storeConnected: boolean | null;
  /** null unless CLUSTER_MODE=1 */
  readonly cluster: ClusterView | null;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** end the process after a shutdown requested over the API (what main chose) */
  exit(code: number): void;
}
