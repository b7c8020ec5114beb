import { createHash } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';

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
  /** the address other nodes and clients use to reach this node */
  nodeHost: string;
  /** the internal link between nodes (cluster mode) */
  clusterPort: number;
  /** authenticates the internal link; required in cluster mode when AUTH_TOKENS is set */
  clusterSecret: string | null;
  /** how long a node's leader and partition leases last without renewal */
  leaseTtlMs: number;
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
  const port = int(merged, 'PORT', 6789, 0, 65535);
  const httpPort = int(merged, 'HTTP_PORT', 6790, 0, 65535);
  const grpcPort = int(merged, 'GRPC_PORT', 6791, 0, 65535);
  const databaseUrl = merged.DATABASE_URL && merged.DATABASE_URL.length > 0 ? merged.DATABASE_URL : null;
  const nodeHost = merged.NODE_HOST && merged.NODE_HOST.length > 0 ? merged.NODE_HOST : '127.0.0.1';
  const cluster = clusterSettings(merged, { port, httpPort, grpcPort, databaseUrl, nodeHost, authTokens: tokens });
  return {
    host: merged.HOST && merged.HOST.length > 0 ? merged.HOST : '0.0.0.0',
    port,
    httpPort,
    grpcPort,
    unixSocket: merged.UNIX_SOCKET && merged.UNIX_SOCKET.length > 0 ? merged.UNIX_SOCKET : null,
    authTokens: tokens,
    databaseUrl,
    persist,
    storeTimeoutMs: int(merged, 'STORE_TIMEOUT_MS', 10_000, 100, 3_600_000),
    storeLoadTimeoutMs: int(merged, 'STORE_LOAD_TIMEOUT_MS', 300_000, 100, 86_400_000),
    shards: int(merged, 'SHARDS', defaultShards(), 0, 64),
    maxBatch: int(merged, 'MAX_BATCH', 1000, 1, 100_000),
    keepCompleted: int(merged, 'KEEP_COMPLETED', 100_000, 0, 100_000_000),
    maxQueues: int(merged, 'MAX_QUEUES', 10_000, 1, 1_000_000),
    ...cluster,
    nodeHost,
    logLevel: logLevel as Config['logLevel'],
    corsOrigins: corsOrigins(merged.CORS_ORIGINS),
  };
}

/**
 * The default NODE_ID: derived from the machine's name, NODE_HOST and the listening ports, so a
 * node restarted on the same host and ports comes back as the same node (its leases are then
 * taken back at once instead of after a TTL), and two nodes on one host differ.
 */
export function defaultNodeId(nodeHost: string, ports: ReadonlyArray<number>, machine = hostname()): string {
  const h = createHash('sha256').update(`${machine}|${nodeHost}|${ports.join('|')}`).digest('hex');
  return `node-${h.slice(0, 12)}`;
}

const SECRET_MIN = 16;

function clusterSettings(
  env: NodeJS.ProcessEnv,
  c: { port: number; httpPort: number; grpcPort: number; databaseUrl: string | null; nodeHost: string; authTokens: string[] },
): Pick<Config, 'clusterMode' | 'nodeId' | 'clusterPort' | 'clusterSecret' | 'leaseTtlMs'> {
  const clusterMode = bool(env, 'CLUSTER_MODE');
  const leaseTtlMs = int(env, 'LEASE_TTL_MS', 10_000, 100, 600_000);
  const explicitPort = env.CLUSTER_PORT !== undefined && env.CLUSTER_PORT !== '';
  const clusterPort = explicitPort ? int(env, 'CLUSTER_PORT', 0, 1, 65535) : c.port > 0 && c.port + 3 <= 65535 ? c.port + 3 : 0;
  const clusterSecret = env.CLUSTER_SECRET !== undefined && env.CLUSTER_SECRET !== '' ? env.CLUSTER_SECRET : null;
  if (clusterSecret !== null && clusterSecret.length < SECRET_MIN) {
    throw new ConfigError(`CLUSTER_SECRET must be at least ${SECRET_MIN} characters`);
  }
  const nodeId = env.NODE_ID && env.NODE_ID.length > 0 ? env.NODE_ID : defaultNodeId(c.nodeHost, [c.port, c.httpPort, c.grpcPort]);
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(nodeId)) {
    throw new ConfigError(`NODE_ID must be 1..128 of letters, digits, '.', '_', ':', '-', got ${JSON.stringify(nodeId)}`);
  }
  if (clusterMode) {
    if (c.databaseUrl === null) {
      throw new ConfigError('CLUSTER_MODE=1 requires DATABASE_URL: the nodes share their jobs, membership and leases through PostgreSQL');
    }
    if (clusterPort === 0) throw new ConfigError(`CLUSTER_MODE=1 needs CLUSTER_PORT (no default: PORT is ${c.port})`);
    const clash = ([['PORT', c.port], ['HTTP_PORT', c.httpPort], ['GRPC_PORT', c.grpcPort]] as const).find(([, p]) => p === clusterPort);
    if (clash) throw new ConfigError(`CLUSTER_PORT ${clusterPort} is already ${clash[0]}`);
    if (c.authTokens.length > 0 && clusterSecret === null) {
      throw new ConfigError('CLUSTER_SECRET is required with AUTH_TOKENS in cluster mode: it authenticates the link between nodes');
    }
  }
  return { clusterMode, nodeId, clusterPort, clusterSecret, leaseTtlMs };
}
