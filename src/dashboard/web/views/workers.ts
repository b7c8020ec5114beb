import { h, num, table } from '../dom.js';
import { isoTime, relative } from '../format.js';
import { BaseView } from '../view.js';

interface WorkerRow {
  id: string;
  queues: string[];
  concurrency: number;
  last_heartbeat: number;
  jobs_processed: number;
}

/** Workers that sent a heartbeat in the last 30 s. */
export class WorkersView extends BaseView {
  private readonly box = h('div');

  protected start(): void {
    this.root.append(h('h1', { text: 'Workers' }), h('p', { class: 'muted', text: 'Workers that sent a heartbeat (POST /workers/{id}/heartbeat) in the last 30 seconds.' }), this.box);
    this.every(3000, () => void this.load());
    void this.load().then(() => this.ready());
  }

  private async load(): Promise<void> {
    const rows = await this.fetch<WorkerRow[]>(this.box, '/workers', 'list workers');
    if (rows === null) return;
    const now = Date.now();
    this.box.replaceChildren(
      table(
        ['Worker', 'Queues', 'Concurrency', 'Last heartbeat', 'Jobs processed'],
        rows.map((w) =>
          h(
            'tr',
            { 'data-worker': w.id },
            h('td', { class: 'mono', text: w.id }),
            h('td', { text: w.queues.join(', ') }),
            h('td', { class: 'r', text: w.concurrency }),
            h('td', { title: isoTime(w.last_heartbeat), text: relative(w.last_heartbeat, now) }),
            h('td', { class: 'r' }, num(w.jobs_processed)),
          ),
        ),
        'No live workers.',
      ),
    );
  }
}
