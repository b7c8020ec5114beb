import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';

export const PARTITION_COUNT = 256;

/** One server process of a test cluster. */
export class ClusterProc {
  private constructor(
    readonly nodeId: string,
    readonly server: RunningServer,
    readonly clusterPort: number,
    /** the settings it was started with (restart() keeps them) */
    private readonly settings: { url: string; ttlMs: number; env: Record<string, string> },
  ) {}

  static async start(url: string, nodeId: string, ttlMs: number, env: Record<string, string> = {}, timeoutMs?: number): Promise<ClusterProc> {
    const clusterPort = await freePort();
    const server = await startServer({
      CLUSTER_MODE: '1',
      DATABASE_URL: url,
      NODE_ID: nodeId,
      CLUSTER_PORT: String(clusterPort),
      LEASE_TTL_MS: String(ttlMs),
      SHARDS: '0',
      ...env,
    }, timeoutMs);
    return new ClusterProc(nodeId, server, clusterPort, { url, ttlMs, env });
  }

  /** The same node (id, database, every port, settings) started again, e.g. after a SIGKILL. */
  restart(timeoutMs = 60_000): Promise<ClusterProc> {
    const { url, ttlMs, env } = this.settings;
    const s = this.server;
    const ports = { PORT: String(s.port), HTTP_PORT: String(s.httpPort), GRPC_PORT: String(s.grpcPort), CLUSTER_PORT: String(this.clusterPort) };
    return ClusterProc.start(url, this.nodeId, ttlMs, { ...env, ...ports }, timeoutMs);
  }

  /** Whether this node holds the leader lease, as its /health says (false when it does not answer). */
  async isLeader(): Promise<boolean> {
    try {
      return (await this.get<{ is_leader: boolean }>('/health')).is_leader === true;
    } catch {
      return false;
    }
  }

  get port(): number {
    return this.server.port;
  }

  get alive(): boolean {
    return this.server.proc.exitCode === null && this.server.proc.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.server.proc.kill(signal);
  }

  async get<T = any>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.server.httpPort}${path}`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { ok: boolean; data: T; error: string | null };
    if (!body.ok) throw new Error(`${this.nodeId} GET ${path}: ${body.error}`);
    return body.data;
  }

  /** Partitions this node serves, as its /health says. */
  async served(): Promise<number[]> {
    const h = await this.get<{ partitions: number[] }>('/health');
    return h.partitions;
  }

  tcp(): Promise<WireClient> {
    return WireClient.open(this.port);
  }
}

/**
 * Settled: the live nodes serve disjoint sets covering every partition, and every live node's
 * partition map names the same owner for each partition. Returns node id → partitions.
 */
export async function settled(nodes: ReadonlyArray<ClusterProc>): Promise<Map<string, number[]> | null> {
  const live = nodes.filter((n) => n.alive);
  const served = new Map<string, number[]>();
  const owner = new Array<string | null>(PARTITION_COUNT).fill(null);
  try {
    for (const n of live) {
      const ps = await n.served();
      served.set(n.nodeId, ps);
      for (const p of ps) {
        if (owner[p] !== null) return null;
        owner[p] = n.nodeId;
      }
    }
    if (owner.some((o) => o === null)) return null;
    for (const n of live) {
      const map = await n.get<Array<{ partition: number; owner: string | null }>>('/cluster/partitions');
      if (map.some((r) => r.owner !== owner[r.partition])) return null;
    }
  } catch {
    return null;
  }
  return served;
}

/** `balanced`: also every live node serves ⌊P/n⌋ or ⌈P/n⌉ partitions (a joining node got its share). */
export async function waitSettled(nodes: ReadonlyArray<ClusterProc>, timeoutMs: number, what: string, balanced = false): Promise<Map<string, number[]>> {
  const even = (m: Map<string, number[]>) => [...m.values()].every((ps) => Math.abs(ps.length - PARTITION_COUNT / m.size) < 1);
  try {
    return (await waitFor(async () => {
      const m = await settled(nodes);
      return m !== null && (!balanced || even(m)) ? m : null;
    }, timeoutMs, what))!;
  } catch (e) {
    const tails = nodes.map((n) => `--- ${n.nodeId} (${n.alive ? 'alive' : 'dead'})\n${n.server.output().slice(-2000)}`).join('\n');
    throw new Error(`${(e as Error).message}\n${tails}`);
  }
}

/** Errors a client retries while partitions move (the answer says nothing was done). */
export function retryable(a: { ok?: boolean; error?: string }): boolean {
  return a.ok === false && typeof a.error === 'string' && /not served|Storage unavailable|link to node/i.test(a.error);
}

/** A request retried on a fresh answer until it is not a retryable refusal, within `timeoutMs`. */
export async function callRetrying<T = Record<string, any>>(c: WireClient, req: object, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await c.call<T & { ok?: boolean; error?: string }>(req);
    if (!retryable(a) || Date.now() > deadline) return a;
    await new Promise((r) => setTimeout(r, 50));
  }
}
