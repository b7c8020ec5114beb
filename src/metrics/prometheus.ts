import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Counters, QueueInfo, Stats } from '../engine/types.js';
import { LATENCY_BUCKETS_S, type LatencyHistogram } from './history.js';

/** A cluster node's counters, as /metrics/prometheus exports them. */
export interface ClusterMetrics {
  isLeader: boolean;
  served: number;
  /** partitions this node started serving since it started */
  gained: number;
  /** partitions it stopped serving, by reason (expired, taken, reassigned, stopped, fenced) */
  lost: Record<string, number>;
  /** requests sent to other nodes, and those answered with an error because a link was down */
  forwarded: number;
  forwardFailed: number;
  /** other nodes known live, and those whose link is up */
  peers: number;
  peersConnected: number;
}

/** What a scrape needs, gathered fresh from every shard by the caller. */
export interface ScrapeInput {
  counters: Counters;
  stats: Stats;
  queues: QueueInfo[];
  jobsPerSecond: number;
  latency: LatencyHistogram;
  /** event fan-out of the HTTP front since it started (see EventBus) */
  events: { delivered: number; dropped: number };
  /** TCP and WebSocket connections plus HTTP requests in flight: what MAX_CONNECTIONS counts */
  connections: number;
  /** cluster mode only */
  cluster: ClusterMetrics | null;
}

/**
 * The Prometheus registry of GET /metrics/prometheus, with the API document's metric names. Job
 * numbers live in the shards, so they are set from a fan-out at scrape time rather than counted on
 * the front; Node process metrics come from prom-client's default collectors.
 */
export class PromMetrics {
  readonly registry = new Registry();
  private readonly pushed: Counter;
  private readonly completed: Counter;
  private readonly failed: Counter;
  private readonly current: Gauge<'state'>;
  private readonly throughput: Gauge;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly eventsDelivered: Counter;
  private readonly eventsDropped: Counter;
  private readonly connections: Gauge;
  private readonly leader: Gauge;
  private readonly served: Gauge;
  private readonly gained: Counter;
  private readonly lost: Counter<'reason'>;
  private readonly forwarded: Counter;
  private readonly forwardFailed: Counter;
  private readonly peers: Gauge<'state'>;
  private latency: LatencyHistogram = { buckets: LATENCY_BUCKETS_S.map(() => 0), count: 0, sum: 0 };

  constructor() {
    const registers = [this.registry];
    this.pushed = new Counter({ name: 'flashq_jobs_pushed_total', help: 'Jobs accepted (single, batch, cron, incoming webhook)', registers });
    this.completed = new Counter({ name: 'flashq_jobs_completed_total', help: 'Jobs acknowledged as completed', registers });
    this.failed = new Counter({ name: 'flashq_jobs_failed_total', help: 'Jobs moved to a dead letter queue', registers });
    this.current = new Gauge({ name: 'flashq_jobs_current', help: 'Current number of jobs by state', labelNames: ['state'], registers });
    this.throughput = new Gauge({ name: 'flashq_throughput_per_second', help: 'Jobs completed per second over the last metrics interval', registers });
    this.queueJobs = new Gauge({ name: 'flashq_queue_jobs', help: 'Queue job counts', labelNames: ['queue', 'state'], registers });
    this.eventsDelivered = new Counter({ name: 'flashq_events_delivered_total', help: 'Event deliveries to WebSocket/SSE subscribers and webhooks', registers });
    this.eventsDropped = new Counter({ name: 'flashq_events_dropped_total', help: 'Events dropped because fan-out was over its budget', registers });
    this.connections = new Gauge({ name: 'flashq_connections_open', help: 'Open TCP/WebSocket connections and HTTP requests in flight (what MAX_CONNECTIONS counts)', registers });
    this.leader = new Gauge({ name: 'flashq_cluster_is_leader', help: 'Whether this node holds the leader lease (cluster mode)', registers });
    this.served = new Gauge({ name: 'flashq_cluster_partitions_served', help: 'Partitions this node serves now (cluster mode)', registers });
    this.gained = new Counter({ name: 'flashq_cluster_partitions_gained_total', help: 'Partitions this node took over and loaded (failovers and rebalancing)', registers });
    this.lost = new Counter({ name: 'flashq_cluster_partitions_lost_total', help: 'Partitions this node stopped serving, by reason', labelNames: ['reason'], registers });
    this.forwarded = new Counter({ name: 'flashq_cluster_forwarded_total', help: 'Requests forwarded to the node owning their partition', registers });
    this.forwardFailed = new Counter({ name: 'flashq_cluster_forward_failures_total', help: 'Forwarded requests answered with an error because the link to their owner was down', registers });
    this.peers = new Gauge({ name: 'flashq_cluster_peers', help: 'Other live nodes, and those whose link is up', labelNames: ['state'], registers });
    this.registry.registerMetric(this.latencyMetric() as unknown as Metric);
    collectDefaultMetrics({ register: this.registry });
  }

  async render(input: ScrapeInput): Promise<string> {
    setCounter(this.pushed, input.counters.totalPushed);
    setCounter(this.completed, input.counters.totalCompleted);
    setCounter(this.failed, input.counters.totalFailed);
    const s = input.stats;
    this.current.set({ state: 'queued' }, s.queued);
    this.current.set({ state: 'processing' }, s.processing);
    this.current.set({ state: 'delayed' }, s.delayed);
    this.current.set({ state: 'dlq' }, s.dlq);
    this.throughput.set(input.jobsPerSecond);
    // queues come and go: start from empty so forgotten ones disappear from the scrape
    this.queueJobs.reset();
    for (const q of input.queues) {
      this.queueJobs.set({ queue: q.name, state: 'pending' }, q.pending);
      this.queueJobs.set({ queue: q.name, state: 'processing' }, q.processing);
      this.queueJobs.set({ queue: q.name, state: 'dlq' }, q.dlq);
    }
    setCounter(this.eventsDelivered, input.events.delivered);
    setCounter(this.eventsDropped, input.events.dropped);
    this.connections.set(input.connections);
    const k = input.cluster;
    if (k !== null) {
      this.leader.set(k.isLeader ? 1 : 0);
      this.served.set(k.served);
      setCounter(this.gained, k.gained);
      this.lost.reset();
      for (const [reason, n] of Object.entries(k.lost)) if (n > 0) this.lost.inc({ reason }, n);
      setCounter(this.forwarded, k.forwarded);
      setCounter(this.forwardFailed, k.forwardFailed);
      this.peers.set({ state: 'live' }, k.peers);
      this.peers.set({ state: 'connected' }, k.peersConnected);
    }
    this.latency = input.latency;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A histogram whose values are filled from the metrics history (see LatencyHistogram). */
  private latencyMetric() {
    const name = 'flashq_job_latency_seconds';
    const help = 'Time from push to completion of completed jobs';
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => {
        const h = this.latency;
        const values = LATENCY_BUCKETS_S.map((le, k) => ({ metricName: `${name}_bucket`, labels: { le }, value: h.buckets[k] ?? 0 }));
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' as unknown as number }, value: h.count });
        return {
          name,
          help,
          type: 'histogram',
          aggregator: 'sum',
          values: [...values, { metricName: `${name}_sum`, labels: {}, value: h.sum }, { metricName: `${name}_count`, labels: {}, value: h.count }],
        };
      },
    };
  }
}

/** A counter mirroring a cumulative value kept elsewhere. */
function setCounter(c: Counter, value: number): void {
  c.reset();
  if (value > 0) c.inc(value);
}

let shared: PromMetrics | null = null;

/** One registry per process: default metrics hook process-wide observers once. */
export function promMetrics(): PromMetrics {
  return (shared ??= new PromMetrics());
}
