import { api } from '../api.js';
import { card, h } from '../dom.js';
import { duration } from '../format.js';
import { BaseView } from '../view.js';

const LABELS: Record<string, string> = {
  version: 'Version',
  node_id: 'Node id',
  tcp_port: 'TCP port',
  http_port: 'HTTP port',
  grpc_port: 'gRPC port',
  shards: 'Shards',
  database_connected: 'Database connected',
  database_url: 'Database URL',
  auth_enabled: 'Auth enabled',
  auth_token_count: 'Auth tokens',
  uptime_seconds: 'Uptime',
  cluster_enabled: 'Cluster mode',
};

/** The server's settings (GET /settings; the database password comes masked) and this tab's session. */
export class SettingsView extends BaseView {
  protected start(): void {
    const box = h('div', {}, h('div', { class: 'muted', text: 'Loading…' }));
    const session = h(
      'div',
      { class: 'stack' },
      h('p', { text: api.token ? 'Signed in with a token kept for this tab only (sessionStorage): closing the tab forgets it.' : 'This server asks for no token.' }),
      api.token ? h('div', {}, h('button', { type: 'button', 'data-action': 'sign-out', onclick: () => window.dispatchEvent(new Event('flashq:signout')), text: 'Sign out' })) : null,
    );
    this.root.append(h('h1', { text: 'Settings' }), h('div', { class: 'cols' }, card('Server', box), card('This dashboard', session)));
    void this.load(box).then(() => this.ready());
  }

  private async load(box: HTMLElement): Promise<void> {
    try {
      const s = await api.get<Record<string, unknown>>('/settings');
      if (this.gone) return;
      const show = (k: string, v: unknown): string => {
        if (v === null || v === undefined) return '–';
        if (k === 'uptime_seconds' && typeof v === 'number') return duration(v * 1000);
        if (typeof v === 'boolean') return v ? 'yes' : 'no';
        return String(v);
      };
      box.replaceChildren(
        h('table', { class: 'kv' }, ...Object.entries(s).map(([k, v]) => h('tr', { 'data-key': k }, h('th', { text: LABELS[k] ?? k }), h('td', { class: 'mono', text: show(k, v) })))),
      );
    } catch (e) {
      box.replaceChildren(h('div', { class: 'error', text: `Cannot read settings: ${(e as Error).message}` }));
    }
  }
}
