import type { Config } from './config.js';
import { log } from './log.js';
import { Auth } from './front/auth.js';
import { Dispatcher } from './front/dispatcher.js';
import { Fanout } from './front/fanout.js';
import { InlineLink } from './front/inline-link.js';
import { ConnectionLimit } from './front/limits.js';
import { TcpRouter } from './front/tcp-router.js';
import { ShardRouter } from './front/shard-router.js';
import type { ShardLink } from './front/shard-link.js';
import { TcpFront } from './front/tcp.js';
import { WorkerLink } from './front/worker-link.js';
import { HttpFront } from './front/http/index.js';
import { GrpcFront } from './front/grpc/index.js';
import type { ClusterView, FrontParts, ServerControl } from './front/parts.js';
import { ClusterBridge } from './cluster-bridge.js';
import { shareAcrossNodes } from './cluster-shared.js';
import { StoreStatus } from './front/store-status.js';
import { WorkerRegistry } from './front/workers.js';
import { MetricsHistory, INTERVAL_MS } from './metrics/history.js';
import type { ControlMessage } from './shard/messages.js';
import type { ShardOptions } from './shard/start.js';
import { migrateDatabase } from './store/schema.js';
import { PgWebhookStore } from './store/pg-webhook-store.js';
import { WebhookRegistry } from './webhooks/registry.js';
import { MemoryWebhookStore } from './webhooks/webhook-persistence.js';
import type { Webhook } from './webhooks/types.js';
import { VERSION } from './version.js';

export { VERSION } from './version.js';

/**
 * The whole server in one process: shards (worker threads, or inline when SHARDS=0), the
 * dispatcher between them and the listeners, and the listeners themselves.
 */
export class Server implements ServerControl {
  readonly startedAt = Date.now();
  auth: Auth;
  dispatcher!: Dispatcher;
  router!: ShardRouter;
  fanout!: Fanout;
  /** MAX_CONNECTIONS, counted over every listener */
  limit!: ConnectionLimit;
  readonly history = new MetricsHistory();
  private tcp: TcpFront | null = null;
  private http: HttpFront | null = null;
  private grpc: GrpcFront | null = null;
  private links: ShardLink[] = [];
  private sampler: NodeJS.Timeout | null = null;
  private running = false;
  /** set by main: how to end the process after a shutdown requested over the API */
  onExit: ((code: number) => void) | null = null;
  tcpPort = 0;
  /** null without DATABASE_URL; `.connected` is /health's postgres_connected */
  storeStatus: StoreStatus | null = null;
  /** kept across restarts (POST /server/restart stops and starts the listeners) */
  readonly workers = new WorkerRegistry();
  private webhooks: WebhookRegistry | null = null;
  /** CLUSTER_MODE=1: leases, links to the other nodes, routing by partition owner */
  private bridge: ClusterBridge | null = null;
  private unshare: (() => void) | null = null;

  constructor(readonly config: Config) {
    this.auth = new Auth(config.authTokens);
  }

  get shardCount(): number {
    return Math.max(1, this.config.shards);
  }

  get cluster(): ClusterView | null {
    return this.bridge;
  }

  get storeConnected(): boolean | null {
    return this.storeStatus === null ? null : this.storeStatus.connected;
  }

  exit(code: number): void {
    this.onExit?.(code);
  }

  async start(): Promise<void> {
    const c = this.config;
    const n = this.shardCount;
    this.dispatcher = new Dispatcher(n);
    const opts = (index: number): ShardOptions => ({
      index,
      count: n,
      keepCompleted: c.keepCompleted,
      maxQueues: c.maxQueues,
      maxBatch: c.maxBatch,
      // a cluster node's shards start empty and load the partitions its leases give it
      cluster: c.clusterMode ? { nodeId: c.nodeId, idleMs: c.leaseTtlMs } : null,
    });
    const store = c.databaseUrl ? { url: c.databaseUrl, persist: c.persist, timeoutMs: c.storeTimeoutMs, loadTimeoutMs: c.storeLoadTimeoutMs } : null;
    if (store) {
      // before any shard starts: an unreachable database stops the server here
      await migrateDatabase(store.url);
      this.storeStatus = new StoreStatus(n);
    }
    // once per Server: webhooks outlive restarts of the listeners
    this.webhooks ??= new WebhookRegistry(store ? new PgWebhookStore<Webhook>(store.url) : new MemoryWebhookStore());
    this.dispatcher.onControl = (shard, msg) => this.onControl(shard, msg);
    if (c.shards === 0) {
      this.links = [await InlineLink.open(0, opts(0), this.dispatcher, store)];
    } else {
      const workers = Array.from({ length: n }, (_, i) => new WorkerLink(i, opts(i), this.dispatcher, store, c.logLevel));
      this.links = workers;
      await Promise.all(workers.map((w) => w.ready));
    }
    this.dispatcher.attach(this.links);
    // recovered shards may now reach each other: re-watch parents that live on other shards
    if (store) this.dispatcher.broadcastControl({ op: 'rewatch' });
    this.router = new ShardRouter(this.dispatcher);
    this.fanout = new Fanout(this.dispatcher);
    this.fanout.rates = this.history;
    this.fanout.ownerOf = (queue) => this.router.shardOfQueue(queue);
    this.limit = new ConnectionLimit(c.maxConnections);
    const parts: FrontParts = { config: c, dispatcher: this.dispatcher, router: this.router, fanout: this.fanout, auth: this.auth, limit: this.limit };
    const requests = new TcpRouter(this.dispatcher, this.router, this.fanout, this.auth, c.maxBatch);
    const limits = { limit: this.limit, idleTimeoutMs: c.idleTimeoutMs, maxAuthFailures: c.maxAuthFailures };
    this.tcp = new TcpFront(requests, this.dispatcher, this.auth, limits, c.tls);
    if (c.port > 0) this.tcpPort = await this.tcp.listen(c.port, c.host);
    if (c.unixSocket) await this.tcp.listenUnix(c.unixSocket);
    if (c.httpPort > 0) {
      this.http = await HttpFront.start({ ...parts, history: this.history, workers: this.workers, webhooks: this.webhooks, server: this });
    }
    if (c.grpcPort > 0) this.grpc = await GrpcFront.start(parts);
    if (c.clusterMode) {
      this.bridge = new ClusterBridge(c, this.dispatcher, this.router, this.fanout, { tcp: this.tcpPort });
      this.unshare = shareAcrossNodes(this.bridge, this.workers, this.webhooks);
      await this.bridge.start();
    }
    this.sampler = setInterval(() => void this.sample(), INTERVAL_MS);
    this.sampler.unref();
    void this.sample();
    this.running = true;
    log.info('listening', {
      tcp: c.port > 0 ? this.tcpPort : null,
      http: c.httpPort > 0 ? c.httpPort : null,
      grpc: c.grpcPort > 0 ? c.grpcPort : null,
      unix: c.unixSocket,
      tls: c.tls !== null ? (c.tls.ca !== null ? 'client certificates required' : 'on') : 'off',
      shards: c.shards,
      persistence: store ? c.persist : 'memory',
      version: VERSION,
    });
  }

  /** The front's side of the control messages: what shards report. */
  private onControl(shard: number, msg: ControlMessage): void {
    switch (msg.op) {
      case 'store':
        this.storeStatus?.set(shard, msg.available);
        break;
      case 'gained':
      case 'gainFailed':
      case 'lost':
      case 'fenced':
        this.bridge?.onShardControl(msg);
        break;
      case 'gain':
      case 'lose':
      case 'events':
      case 'drain':
      case 'stop':
      case 'rewatch':
        throw new Error(`the front got the control message it sends shards: ${msg.op}`);
      default:
        msg satisfies never;
    }
  }

  /** One metrics point: counters and stats from every shard. */
  async sample(): Promise<void> {
    try {
      const [m, s] = await Promise.all([this.fanout.result({ cmd: 'METRICS' }), this.fanout.result({ cmd: 'STATS' })]);
      if (m.kind === 'metrics' && s.kind === 'stats') this.history.record(Date.now(), m.counters, s.stats);
    } catch (e) {
      log.warn('metrics sample failed', { error: String(e) });
    }
  }

  /** Stop everything, then serve again on the same ports (state comes back from the store, if any). */
  async restart(): Promise<void> {
    log.info('restarting');
    await this.stop();
    await this.start();
  }

  /** Stop accepting, answer what is in flight, flush the shards (and their stores). */
  async stop(): Promise<void> {
    if (!this.running && this.links.length === 0) return;
    this.running = false;
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    if (this.dispatcher && this.links.length > 0) this.dispatcher.broadcastControl({ op: 'drain' });
    await Promise.all([this.tcp?.close(), this.http?.close(), this.grpc?.close()]);
    this.tcp = null;
    this.http = null;
    this.grpc = null;
    // hand the partitions over before the shards close: the others take them at once
    this.unshare?.();
    this.unshare = null;
    await this.bridge?.stop();
    this.bridge = null;
    await Promise.all(this.links.map((l) => l.close()));
    this.links = [];
  }
}
