import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createSecureContext } from 'node:tls';

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
  /** TLS on the TCP, HTTP/WebSocket/SSE and gRPC ports; null serves plaintext */
  tls: TlsConfig | null;
  /** client connections open at once, over every listener */
  maxConnections: number;
  /** ms a connection may stay silent in the middle of a request (part of a line, frame or HTTP body) */
  idleTimeoutMs: number;
  /** failed AUTH commands on one TCP connection before it is closed */
  maxAuthFailures: number;
}

/** TLS material, read and checked at start (a key that does not match its certificate is refused). */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** when set, clients must present a certificate signed by this CA */
  caFile: string | null;
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
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

function readTlsFile(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${name} ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
  }
}

function tlsConfig(env: NodeJS.ProcessEnv): TlsConfig | null {
  const certFile = env.TLS_CERT_FILE || null;
  const keyFile = env.TLS_KEY_FILE || null;
  const caFile = env.TLS_CA_FILE || null;
  if (certFile === null && keyFile === null) {
    if (caFile !== null) throw new ConfigError('TLS_CA_FILE requires TLS_CERT_FILE and TLS_KEY_FILE');
    return null;
  }
  if (certFile === null) throw new ConfigError('TLS_KEY_FILE is set but TLS_CERT_FILE is not: both are needed for TLS');
  if (keyFile === null) throw new ConfigError('TLS_CERT_FILE is set but TLS_KEY_FILE is not: both are needed for TLS');
  const cert = readTlsFile('TLS_CERT_FILE', certFile);
  const key = readTlsFile('TLS_KEY_FILE', keyFile);
  const ca = caFile === null ? null : readTlsFile('TLS_CA_FILE', caFile);
  try {
    // the same check the listeners' TLS would fail on later, with a less helpful message
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (e) {
    throw new ConfigError(`TLS_CERT_FILE/TLS_KEY_FILE${ca ? '/TLS_CA_FILE' : ''} are not a usable certificate and key: ${(e as Error).message}`);
  }
  return { certFile, keyFile, caFile, cert, key, ca };
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
    tls: tlsConfig(merged),
    maxConnections: int(merged, 'MAX_CONNECTIONS', 10_000, 1, 10_000_000),
    idleTimeoutMs: int(merged, 'IDLE_TIMEOUT_MS', 30_000, 50, 3_600_000),
    maxAuthFailures: int(merged, 'MAX_AUTH_FAILURES', 5, 1, 1_000_000),
  };
}
