import { api, seg, type QueueRow } from '../api.js';
import { confirmDialog, h, num, numberDialog, table, throttle, toast } from '../dom.js';
import { stream } from '../stream.js';
import { BaseView } from '../view.js';

/** Every queue with its counts by state and limits; pause/resume, limits, DLQ retry. */
export class QueuesView extends BaseView {
  private box = h('div');
  private queues: QueueRow[] = [];

  protected start(): void {
    this.root.append(h('h1', { text: 'Queues' }), this.box);
    const again = throttle(() => void this.load(), 1000);
    this.onCleanup(again.cancel);
    this.onCleanup(stream.subscribe((batch) => batch.length > 0 && again()));
    this.every(5000, () => void this.load());
    void this.load().then(() => this.ready());
  }

  private async load(): Promise<void> {
    const queues = await this.fetch<QueueRow[]>(this.box, '/queues', 'list queues');
    if (queues === null) return;
    this.queues = queues;
    this.render();
  }

  private render(): void {
    const rows = this.queues.map((q) =>
      h(
        'tr',
        { 'data-queue': q.name },
        h('td', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}`, class: 'qname', text: q.name })),
        h('td', { class: 'r' }, num(q.waiting ?? q.pending)),
        h('td', { class: 'r' }, num(q.processing)),
        h('td', { class: 'r' }, num(q.delayed)),
        h('td', { class: 'r' }, num(q.waiting_children)),
        h('td', { class: 'r' }, q.dlq > 0 ? h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}&state=failed` }, num(q.dlq, 'num bad')) : num(0)),
        h('td', {}, h('span', { class: 'pill ' + (q.paused ? 'warn' : 'ok'), 'data-paused': String(q.paused), text: q.paused ? 'paused' : 'running' })),
        h('td', { class: 'r', 'data-rate': q.rate_limit ?? '' }, q.rate_limit === null ? h('span', { class: 'muted', text: 'none' }) : num(q.rate_limit), q.rate_limit === null ? null : '/s'),
        h('td', { class: 'r', 'data-concurrency': q.concurrency_limit ?? '' }, q.concurrency_limit === null ? h('span', { class: 'muted', text: 'none' }) : num(q.concurrency_limit)),
        h('td', { class: 'actions' }, h('div', { class: 'btns' }, ...this.actions(q))),
      ),
    );
    this.box.replaceChildren(
      table(['Queue', 'Waiting', 'Active', 'Delayed', 'Children', 'DLQ', 'State', 'Rate limit', 'Concurrency', ''], rows, 'No queues yet: push a job to create one.'),
    );
  }

  private actions(q: QueueRow): HTMLElement[] {
    const path = `/queues/${seg(q.name)}`;
    const act = (label: string, run: () => Promise<unknown>, ok: string, cls = '') =>
      h('button', {
        type: 'button',
        class: 'small ' + cls,
        'data-action': label.toLowerCase().replace(/\s+/g, '-'),
        onclick: async (ev: Event) => {
          const b = ev.currentTarget as HTMLButtonElement;
          b.disabled = true;
          try {
            const r = await run();
            if (r !== null) {
              toast(ok);
              await this.load();
            }
          } catch (e) {
            toast(`${q.name}: ${(e as Error).message}`, 'error');
          } finally {
            b.disabled = false;
          }
        },
        text: label,
      });
    const limit = async (kind: 'rate-limit' | 'concurrency', title: string, label: string, current: number | null) => {
      const n = await numberDialog(title, label, current);
      return n === null ? null : api.post(`${path}/${kind}`, { limit: n });
    };
    const out = [
      q.paused
        ? act('Resume', () => api.post(`${path}/resume`), `${q.name} resumed`)
        : act('Pause', () => api.post(`${path}/pause`), `${q.name} paused`),
      act('Rate limit', () => limit('rate-limit', `Rate limit of ${q.name}`, 'Jobs per second', q.rate_limit), `${q.name}: rate limit set`),
      act('Concurrency', () => limit('concurrency', `Concurrency of ${q.name}`, 'Jobs active at once', q.concurrency_limit), `${q.name}: concurrency limit set`),
    ];
    if (q.rate_limit !== null) out.push(act('Clear rate', () => api.del(`${path}/rate-limit`), `${q.name}: rate limit cleared`));
    if (q.concurrency_limit !== null) out.push(act('Clear concurrency', () => api.del(`${path}/concurrency`), `${q.name}: concurrency limit cleared`));
    if (q.dlq > 0) {
      out.push(
        act(
          'Retry DLQ',
          async () => ((await confirmDialog(`Move all ${q.dlq} jobs of ${q.name}'s dead-letter queue back to waiting?`, 'Retry all')) ? api.post<number>(`${path}/dlq/retry`) : null),
          `${q.name}: DLQ jobs retried`,
          'warn',
        ),
      );
    }
    return out;
  }
}
