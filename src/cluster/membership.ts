import type { Sql } from '../store/connection.js';

/** How a node is reached: what it registers on joining. */
export interface NodeAddress {
  nodeId: string;
  /** address other nodes and clients use */
  host: string;
  /** client TCP port */
  port: number;
  /** client HTTP and gRPC ports (0 when off) */
  httpPort?: number;
  grpcPort?: number;
  /** internal link port */
  clusterPort: number;
}

export interface NodeRow extends NodeAddress {
  startedAt: Date;
  heartbeatAt: Date;
  /** heartbeat younger than the lease TTL, by the database's clock */
  live: boolean;
}

/** What a heartbeat found: still registered, row gone (pruned), or another process took the id. */
export type HeartbeatResult = 'ok' | 'missing' | 'displaced';

/**
 * Register this process as `node`. A restart of the same NODE_ID replaces the row and its
 * incarnation, so the previous process, if it still runs, learns at its next heartbeat that it
 * was displaced.
 */
export async function join(sql: Sql, node: NodeAddress, incarnation: string): Promise<void> {
  await sql.unsafe(
    'insert into flashq_nodes (node_id, incarnation, host, port, cluster_port, http_port, grpc_port) values ($1, $2, $3, $4, $5, $6, $7) ' +
      'on conflict (node_id) do update set incarnation = excluded.incarnation, host = excluded.host, port = excluded.port, ' +
      'cluster_port = excluded.cluster_port, http_port = excluded.http_port, grpc_port = excluded.grpc_port, ' +
      'started_at = now(), heartbeat_at = now()',
    [node.nodeId, incarnation, node.host, node.port, node.clusterPort, node.httpPort ?? 0, node.grpcPort ?? 0],
  );
}

/** Stamp the node's heartbeat with the database's now(). */
export async function heartbeat(sql: Sql, nodeId: string, incarnation: string): Promise<HeartbeatResult> {
  const rows = await sql.unsafe<Array<{ updated: number; incarnation: string | null }>>(
    'with u as (update flashq_nodes set heartbeat_at = now() where node_id = $1 and incarnation = $2 returning 1) ' +
      'select (select count(*) from u)::int as updated, (select incarnation from flashq_nodes where node_id = $1) as incarnation',
    [nodeId, incarnation],
  );
  const r = rows[0]!;
  if (r.updated === 1) return 'ok';
  return r.incarnation === null ? 'missing' : 'displaced';
}

/** Deregister (a graceful stop): the leader moves the node's partitions at its next pass. */
export async function leave(sql: Sql, nodeId: string, incarnation: string): Promise<void> {
  await sql.unsafe('delete from flashq_nodes where node_id = $1 and incarnation = $2', [nodeId, incarnation]);
}

/** Ids of the nodes whose heartbeat is younger than `ttlMs` by the database's clock, sorted. */
export async function liveNodes(sql: Sql, ttlMs: number): Promise<string[]> {
  const rows = await sql.unsafe<Array<{ node_id: string }>>(
    "select node_id from flashq_nodes where heartbeat_at > now() - $1::integer * interval '1 millisecond' order by node_id",
    [ttlMs],
  );
  return rows.map((r) => r.node_id);
}

/** Every registered node, live or not (for /cluster/nodes). */
export async function listNodes(sql: Sql, ttlMs: number): Promise<NodeRow[]> {
  const rows = await sql.unsafe<
    Array<{
      node_id: string;
      host: string;
      port: number;
      cluster_port: number;
      http_port: number;
      grpc_port: number;
      started_at: Date;
      heartbeat_at: Date;
      live: boolean;
    }>
  >(
    'select node_id, host, port, cluster_port, http_port, grpc_port, started_at, heartbeat_at, ' +
      "heartbeat_at > now() - $1::integer * interval '1 millisecond' as live from flashq_nodes order by node_id",
    [ttlMs],
  );
  return rows.map((r) => ({
    nodeId: r.node_id,
    host: r.host,
    port: r.port,
    clusterPort: r.cluster_port,
    httpPort: r.http_port,
    grpcPort: r.grpc_port,
    startedAt: new Date(r.started_at),
    heartbeatAt: new Date(r.heartbeat_at),
    live: r.live,
  }));
}

/** Forget nodes silent for longer than `silentMs` (the leader tidies; returns how many). */
export async function pruneNodes(sql: Sql, silentMs: number): Promise<number> {
  const rows = await sql.unsafe<Array<{ node_id: string }>>(
    "delete from flashq_nodes where heartbeat_at < now() - $1::integer * interval '1 millisecond' returning node_id",
    [silentMs],
  );
  return rows.length;
}
