import { api, seg } from '../api.js';
import { card, deleteButton, h, table, toast } from '../dom.js';
import { isoTime, relative } from '../format.js';
import { EVENT_TYPES } from '../stream.js';
import { BaseView } from '../view.js';

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  queue: string | null;
  /** the server only ever answers it masked ("****") or null */
  secret: string | null;
  created_at: number;
}

/** Outgoing webhooks: list (secrets masked), create, delete. */
export class WebhooksView extends BaseView {
  private readonly box = h('div');

  protected start(): void {
    const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/hook' });
    const queue = h('input', { name: 'queue', placeholder: 'every queue' });
    // a password field: the secret is never shown back, by the page or the server
    const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'new-password', placeholder: 'optional HMAC key' });
    const all = h('input', { type: 'checkbox', name: '*' });
    const boxes = ['job.completed', 'job.failed', 'job.pushed', ...EVENT_TYPES.filter((t) => !['job.completed', 'job.failed', 'job.pushed'].includes(t))].map((t) =>
      h('input', { type: 'checkbox', name: t, checked: t === 'job.completed' || t === 'job.failed' }),
    );
    const error = h('div', { class: 'error', role: 'alert', hidden: true });
    const form = h(
      'form',
      {
        class: 'stack',
        id: 'webhook-form',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          error.hidden = true;
          const events = all.checked ? ['*'] : boxes.filter((b) => b.checked).map((b) => b.name);
          const body: Record<string, unknown> = { url: url.value.trim(), events };
          if (queue.value.trim()) body.queue = queue.value.trim();
          if (secret.value) body.secret = secret.value;
          try {
            await api.post('/webhooks', body);
            toast('Webhook created');
            form.reset();
            await this.load();
          } catch (e) {
            error.hidden = false;
            error.textContent = (e as Error).message;
          }
        },
      },
      h('div', { class: 'row' }, h('label', { class: 'grow' }, 'URL', url), h('label', {}, 'Queue', queue), h('label', {}, 'Secret', secret)),
      h('div', { class: 'row checks' }, 'Events: ', h('label', { class: 'check' }, all, ' all (*)'), ...boxes.map((b) => h('label', { class: 'check' }, b, ' ' + b.name))),
      error,
      h('div', {}, h('button', { type: 'submit', class: 'primary', text: 'Create webhook' })),
    );
    this.root.append(h('h1', { text: 'Webhooks' }), this.box, card('New webhook', form));
    this.every(10_000, () => void this.load());
    void this.load().then(() => this.ready());
  }

  private async load(): Promise<void> {
    const rows = await this.fetch<WebhookRow[]>(this.box, '/webhooks', 'list webhooks');
    if (rows === null) return;
    const now = Date.now();
    this.box.replaceChildren(
      table(
        ['URL', 'Events', 'Queue', 'Secret', 'Created', ''],
        rows.map((w) =>
          h(
            'tr',
            { 'data-webhook': w.id },
            h('td', { class: 'mono', title: w.id, text: w.url }),
            h('td', { text: w.events.join(', ') }),
            h('td', { text: w.queue ?? 'every queue' }),
            // whatever the server sends, the page shows no more than that a secret is set
            h('td', { class: 'mono', 'data-secret': '1', text: w.secret === null ? 'none' : '••••••••' }),
            h('td', { title: isoTime(w.created_at), text: relative(w.created_at, now) }),
            h(
              'td',
              {},
              deleteButton(`Delete the webhook to ${w.url}?`, () => api.del(`/webhooks/${seg(w.id)}`), 'Webhook deleted', () => this.load()),
            ),
          ),
        ),
        'No webhooks.',
      ),
    );
  }
}
