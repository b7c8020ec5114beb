import { api, type Metrics, type MetricsPoint, type Stats } from '../api.js';
import { LineChart } from '../charts.js';
import { card, h, table, throttle } from '../dom.js';
import { compact, duration, exact, rate, relative } from '../format.js';
import { stream } from '../stream.js';
import { BaseView } from '../view.js';

interface Health {
  status: string;
  node_id: string;
  is_leader: boolean;
  cluster_enabled: boolean;
  postgres_connected: boolean;
}

interface NodeRow {
  node_id: string;
  host: string;
  port: number;
  is_leader: boolean;
  last_heartbeat: number;
  started_at: number;
}

/** Seconds over which the live event rates are averaged. */
const LIVE_WINDOW_S = 5;

/** Totals, rates, charts of /metrics/history, node and cluster status; refreshed as events arrive. */
export class OverviewView extends BaseView {
  private tiles = new Map<string, HTMLElement>();
  private charts: LineChart[] = [];
  private nodeBox = h('div');
  /** per-second buckets of live event counts: [second, pushed, completed, failed] */
  private live: Array<[number, number, number, number]> = [];

  protected start(): void {
    const tiles = h('div', { class: 'tiles' });
    for (const [key, label] of [
      ['pushed', 'Pushed'],
      ['completed', 'Completed'],
      ['failed', 'Failed (DLQ moves)'],
      ['rate', 'Throughput'],
      ['latency', 'Avg latency'],
      ['live', 'Live events'],
      ['queued', 'Waiting'],
      ['processing', 'Active'],
      ['delayed', 'Delayed'],
      ['dlq', 'DLQ'],
    ] as const) {
      const value = h('div', { class: 'tile-value', text: '…' });
      this.tiles.set(key, value);
      tiles.append(h('div', { class: 'tile', 'data-tile': key }, h('div', { class: 'tile-label', text: label }), value));
    }
    const thr = h('div', { class: 'chart' });
    const lat = h('div', { class: 'chart' });
    const depth = h('div', { class: 'chart' });
    this.root.append(
      h('h1', { text: 'Overview' }),
      tiles,
      h(
        'div',
        { class: 'cols' },
        card('Throughput (jobs/s, 5 s samples)', thr),
        card('Average latency (created → completed)', lat),
      ),
      h('div', { class: 'cols' }, card('Jobs by state', depth), card('Node and cluster', this.nodeBox)),
    );
    this.charts = [
      new LineChart(thr, [{ label: 'completed/s', color: '#3fb950' }, { label: 'pushed/s', color: '#58a6ff' }], compact),
      new LineChart(lat, [{ label: 'avg latency', color: '#d29922' }], duration),
      new LineChart(depth, [{ label: 'waiting', color: '#58a6ff' }, { label: 'active', color: '#3fb950' }, { label: 'delayed', color: '#a371f7' }, { label: 'dlq', color: '#f85149' }], compact),
    ];
    this.onCleanup(() => this.charts.forEach((c) => c.destroy()));

    const refreshTotals = throttle(() => void this.totals(), 1000);
    this.onCleanup(refreshTotals.cancel);
    this.onCleanup(
      stream.subscribe((batch) => {
        const sec = Math.floor(Date.now() / 1000);
        let b = this.live[this.live.length - 1];
        if (!b || b[0] !== sec) this.live.push((b = [sec, 0, 0, 0]));
        for (const ev of batch) {
          if (ev.event_type === 'job.pushed') b[1]++;
          else if (ev.event_type === 'job.completed') b[2]++;
          else if (ev.event_type === 'job.failed') b[3]++;
        }
        if (batch.length > 0) refreshTotals();
      }),
    );
    this.every(1000, () => this.showLive());
    this.every(5000, () => void this.slow());
    void Promise.all([this.totals(), this.slow()]).then(() => this.ready());
  }

  private set(key: string, text: string, title?: string): void {
    const el = this.tiles.get(key)!;
    el.textContent = text;
    if (title !== undefined) el.title = title;
  }

  private showLive(): void {
    const now = Math.floor(Date.now() / 1000);
    this.live = this.live.filter((b) => b[0] > now - LIVE_WINDOW_S);
    let pushed = 0;
    let completed = 0;
    for (const b of this.live) {
      pushed += b[1];
      completed += b[2];
    }
    this.set('live', `${rate(pushed / LIVE_WINDOW_S)} in · ${rate(completed / LIVE_WINDOW_S)} done`, `events over the last ${LIVE_WINDOW_S} s (received: ${exact(stream.received)}, dropped by the page: ${exact(stream.dropped)})`);
  }

  private async totals(): Promise<void> {
    try {
      const [m, s] = await Promise.all([api.get<Metrics>('/metrics'), api.get<Stats>('/stats')]);
      if (this.gone) return;
      this.set('pushed', compact(m.total_pushed), exact(m.total_pushed));
      this.set('completed', compact(m.total_completed), exact(m.total_completed));
      this.set('failed', compact(m.total_failed), exact(m.total_failed));
      this.set('rate', rate(m.jobs_per_second), `${m.jobs_per_second} jobs/s completed over the last metrics interval`);
      this.set('latency', m.avg_latency_ms > 0 ? duration(m.avg_latency_ms) : '–');
      for (const k of ['queued', 'processing', 'delayed', 'dlq'] as const) this.set(k, compact(s[k]), exact(s[k]));
      this.showLive();
    } catch (e) {
      this.set('pushed', 'error', e instanceof Error ? e.message : String(e));
    }
  }

  private async slow(): Promise<void> {
    const [hist, health, nodes] = await Promise.all([
      api.get<MetricsPoint[]>('/metrics/history').catch(() => null),
      api.get<Health>('/health').catch(() => null),
      api.get<NodeRow[]>('/cluster/nodes').catch(() => null),
    ]);
    if (this.gone) return;
    if (hist) {
      const xs = hist.map((p) => p.timestamp);
      const pushedRate = hist.map((p, i) => {
        const prev = hist[i - 1];
        return prev && p.timestamp > prev.timestamp ? Math.max(0, ((p.total_pushed - prev.total_pushed) * 1000) / (p.timestamp - prev.timestamp)) : 0;
      });
      this.charts[0]!.update(xs, [hist.map((p) => p.jobs_per_second), pushedRate]);
      this.charts[1]!.update(xs, [hist.map((p) => p.avg_latency_ms)]);
      this.charts[2]!.update(xs, [hist.map((p) => p.queued), hist.map((p) => p.processing), hist.map((p) => p.delayed), hist.map((p) => p.dlq)]);
    }
    const now = Date.now();
    this.nodeBox.replaceChildren(
      health
        ? h(
            'div',
            { class: 'health' },
            h('span', { class: 'pill ' + (health.status === 'healthy' ? 'ok' : 'bad'), 'data-health': health.status, text: health.status }),
            h('span', { class: 'pill ' + (health.postgres_connected ? 'ok' : 'muted'), text: health.postgres_connected ? 'PostgreSQL connected' : 'no PostgreSQL' }),
            h('span', { class: 'pill muted', text: health.cluster_enabled ? 'cluster mode' : 'single node' }),
          )
        : h('div', { class: 'error', text: 'Health check failed' }),
      table(
        ['Node', 'Address', 'Role', 'Heartbeat', 'Up since'],
        (nodes ?? []).map((n) =>
          h(
            'tr',
            {},
            h('td', { text: n.node_id }),
            h('td', { text: `${n.host}:${n.port}` }),
            h('td', {}, h('span', { class: 'pill ' + (n.is_leader ? 'ok' : 'muted'), text: n.is_leader ? 'leader' : 'follower' })),
            h('td', { text: relative(n.last_heartbeat, now) }),
            h('td', { text: relative(n.started_at, now) }),
          ),
        ),
        'No nodes reported.',
      ),
    );
  }
}
