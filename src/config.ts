import { availableParallelism } from 'node:os';

/**
 * The server's configuration: read once from the environment at start, validated, passed down.
 * Nothing else reads process.env.
 */
export interface Config {
  host: string;
  /** 0 disables the listener */
  port: number;
  httpPort: number;
  grpcPort: number;
  unixSocket: string | null;
  authTokens: string[];
  databaseUrl: string | null;
  persist: 'sync' | 'async';
  /** ms a PostgreSQL transaction or probe may take before the store counts PostgreSQL as down */
  storeTimeoutMs: number;
  /** ms a shard's full reload from PostgreSQL (start, rebuild after an outage) may take */
  storeLoadTimeoutMs: number;
  /** worker-thread shards; 0 runs the engine on the front thread */
  shards: number;
  maxBatch: number;
  keepCompleted: number;
  maxQueues: number;
  clusterMode: boolean;
  nodeId: string;
  nodeHost: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** origins browsers may call the HTTP API from: '*' any, a list (echoed when listed), null off */
  corsOrigins: '*' | readonly string[] | null;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

/**
 * Default shard count. With two cores the client and PostgreSQL need the second one: running the
 * engine on the front thread measured fastest there (BENCHMARKS.md, "shards": PUSHB, PULLB+ACKB,
 * pipelined and sequential PUSH all ahead of one worker shard). Larger machines get one shard per
 * core beyond the front.
 */
export function defaultShards(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 1);
}

/** scheme://host[:port], the form of a browser's Origin header */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/\s,]+$/;

/** CORS_ORIGINS: `*` (default, as the reference server), `none`, or a comma list of origins. */
function corsOrigins(raw: string | undefined): Config['corsOrigins'] {
  const v = (raw ?? '').trim();
  if (v === '' || v === '*') return '*';
  if (v.toLowerCase() === 'none') return null;
  const list = v
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const o of list) {
    if (!ORIGIN.test(o)) {
      throw new ConfigError(`CORS_ORIGINS must be *, none or a comma list of origins like https://app.example.com:8443, got ${JSON.stringify(o)}`);
    }
  }
  // browsers send the scheme and host in lower case
  return list.map((o) => o.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): Config {
  // flags of the same meaning as the environment: --port=6789, --http-port=…, --shards=…
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const arg of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new ConfigError(`unknown argument ${JSON.stringify(arg)} (use --name=value)`);
    merged[m[1]!.toUpperCase().replace(/-/g, '_')] = m[2];
  }
  const persist = (merged.PERSIST ?? 'sync').toLowerCase();
  if (persist !== 'sync' && persist !== 'async') throw new ConfigError(`PERSIST must be sync or async, got ${JSON.stringify(merged.PERSIST)}`);
  const logLevel = (merged.LOG_LEVEL ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be debug, info, warn, error or silent`);
  const tokens = (merged.AUTH_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const nodeId = merged.NODE_ID && merged.NODE_ID.length > 0 ? merged.NODE_ID : `node-${process.pid}`;
  return {
    host: merged.HOST && merged.HOST.length > 0 ? merged.HOST : '0.0.0.0',
    port: int(merged, 'PORT', 6789, 0, 65535),
    httpPort: int(merged, 'HTTP_PORT', 6790, 0, 65535),
    grpcPort: int(merged, 'GRPC_PORT', 6791, 0, 65535),
    unixSocket: merged.UNIX_SOCKET && merged.UNIX_SOCKET.length > 0 ? merged.UNIX_SOCKET : null,
    authTokens: tokens,
    databaseUrl: merged.DATABASE_URL && merged.DATABASE_URL.length > 0 ? merged.DATABASE_URL : null,
    persist,
    storeTimeoutMs: int(merged, 'STORE_TIMEOUT_MS', 10_000, 100, 3_600_000),
    storeLoadTimeoutMs: int(merged, 'STORE_LOAD_TIMEOUT_MS', 300_000, 100, 86_400_000),
    shards: int(merged, 'SHARDS', defaultShards(), 0, 64),
    maxBatch: int(merged, 'MAX_BATCH', 1000, 1, 100_000),
    keepCompleted: int(merged, 'KEEP_COMPLETED', 100_000, 0, 100_000_000),
    maxQueues: int(merged, 'MAX_QUEUES', 10_000, 1, 1_000_000),
    clusterMode: bool(merged, 'CLUSTER_MODE'),
    nodeId,
    nodeHost: merged.NODE_HOST && merged.NODE_HOST.length > 0 ? merged.NODE_HOST : '127.0.0.1',
    logLevel: logLevel as Config['logLevel'],
    corsOrigins: corsOrigins(merged.CORS_ORIGINS),
  };
}
