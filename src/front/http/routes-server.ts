import { PARTITIONS } from '../../engine/types.js';
import { VERSION } from '../../version.js';
import { log } from '../../log.js';
import { route, type HttpContext } from './context.js';

/** Settings, shutdown/restart, health and the (single-node) cluster view. */
export function serverRoutes(ctx: HttpContext): void {
  const { server, config, auth } = ctx.front;

  route(ctx, 'get', '/settings', (x) => {
    const c = config;
    x.ok(
      JSON.stringify({
        version: VERSION,
        tcp_port: server.tcpPort || c.port,
        http_port: c.httpPort,
        grpc_port: c.grpcPort,
        database_connected: server.storeConnected === true,
        database_url: c.databaseUrl === null ? null : maskDatabaseUrl(c.databaseUrl),
        auth_enabled: auth.enabled,
        auth_token_count: auth.tokenCount,
        uptime_seconds: Math.floor(process.uptime()),
        shards: server.shardCount,
        cluster_enabled: c.clusterMode,
        node_id: c.nodeId,
      }),
    );
  });

  route(ctx, 'post', '/server/shutdown', (x) => {
    x.send(200, '{"ok":true,"data":"shutting down","error":null}', 'application/json', true);
    // answer first; the stop closes this listener, so it runs once the answer is on its way
    setImmediate(() => {
      log.info('shutdown requested over HTTP');
      server.stop().then(
        () => server.exit(0),
        (e: unknown) => {
          log.error('shutdown failed', { error: String(e) });
          server.exit(1);
        },
      );
    });
  });

  route(ctx, 'post', '/server/restart', (x) => {
    x.send(200, '{"ok":true,"data":"restarting","error":null}', 'application/json', true);
    setImmediate(() => {
      server.restart().catch((e: unknown) => {
        log.error('restart failed', { error: String(e) });
        server.exit(1);
      });
    });
  });

  // open without a token: load balancers and orchestrators probe it
  route(
    ctx,
    'get',
    '/health',
    (x) => {
      const cluster = server.cluster;
      x.ok(
        JSON.stringify({
          // a store that is configured but down refuses changes: say so instead of "healthy"
          status: server.storeConnected === false ? 'degraded' : 'healthy',
          node_id: config.nodeId,
          is_leader: cluster === null ? true : cluster.isLeader,
          cluster_enabled: config.clusterMode,
          postgres_connected: server.storeConnected === true,
          ...(cluster === null ? {} : { partitions: cluster.served() }),
        }),
      );
    },
    true,
  );

  route(ctx, 'get', '/cluster/nodes', (x) => {
    const cluster = server.cluster;
    if (cluster === null) {
      // a single node is the whole cluster, and its own leader
      const now = Date.now();
      x.ok(
        JSON.stringify([
          { node_id: config.nodeId, host: config.nodeHost, port: config.httpPort, is_leader: true, last_heartbeat: now, started_at: server.startedAt },
        ]),
      );
      return;
    }
    const counts = new Map<string, number>();
    for (const r of cluster.partitionMap()) if (r.owner !== null) counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
    cluster.describe().then(
      ({ leader, nodes }) =>
        x.ok(
          JSON.stringify(
            nodes.map((n) => ({
              node_id: n.nodeId,
              host: n.host,
              // the API document's `port` is the HTTP port; the client protocols' ports follow
              port: n.httpPort ?? 0,
              tcp_port: n.port,
              grpc_port: n.grpcPort ?? 0,
              is_leader: n.nodeId === leader,
              live: n.live,
              last_heartbeat: n.heartbeatAt.getTime(),
              started_at: n.startedAt.getTime(),
              partitions: counts.get(n.nodeId) ?? 0,
            })),
          ),
        ),
      (e: unknown) => x.error(e),
    );
  });

  // who serves each partition, so a client may send a queue's requests to its owner directly
  route(ctx, 'get', '/cluster/partitions', (x) => {
    const cluster = server.cluster;
    if (cluster === null) {
      x.ok(JSON.stringify(Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, owner: config.nodeId, epoch: 0 }))));
      return;
    }
    x.ok(JSON.stringify(cluster.partitionMap()));
  });
}

/**
 * `postgres://user:secret@host/db` → `postgres://user:****@host/db`, and a `password=` parameter.
 * Everything from the first `:` of the user info to the last `@` is masked, so an unencoded `@`
 * or `/` inside the password does not leak a piece of it.
 */
export function maskDatabaseUrl(url: string): string {
  let out = url;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (m) {
    const rest = m[2]!;
    const at = rest.lastIndexOf('@');
    const colon = rest.indexOf(':');
    if (at > 0 && colon >= 0 && colon < at) out = `${m[1]}${rest.slice(0, colon)}:****${rest.slice(at)}`;
  }
  return out.replace(/([?&]password=)[^&#]*/gi, '$1****');
}
