import { api, type JobRow, type QueueRow } from '../api.js';
import { h, kids, table, throttle, toast } from '../dom.js';
import { compact, exact, relative } from '../format.js';
import { stream } from '../stream.js';
import { BaseView } from '../view.js';
import { JobDetails } from './job-details.js';

export const STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'waiting-children'] as const;
const PAGE = 50;

/** The count of a state in a queue's row, when /queues knows it (completed jobs are not counted). */
function knownTotal(q: QueueRow | undefined, state: string): number | null {
  if (!q) return null;
  switch (state) {
    case 'waiting':
      return q.waiting ?? null;
    case 'delayed':
      return q.delayed ?? null;
    case 'active':
      return q.processing;
    case 'failed':
      return q.dlq;
    case 'waiting-children':
      return q.waiting_children ?? null;
    default:
      return null;
  }
}

function preview(data: unknown): string {
  const s = JSON.stringify(data) ?? '';
  return s.length > 90 ? s.slice(0, 89) + '…' : s;
}

/** The job browser: filter by queue and state, page through, search by id, open a job. */
export class JobsView extends BaseView {
  private queue = '';
  private state = '';
  private page = 1;
  private queues: QueueRow[] = [];
  private readonly queueSel = h('select', { name: 'queue' });
  private readonly stateSel = h('select', { name: 'state' });
  private readonly idInput = h('input', { type: 'search', name: 'id', placeholder: 'Job id', inputmode: 'numeric', autocomplete: 'off' });
  private readonly list = h('div', { class: 'job-list' });
  private readonly pager = h('div', { class: 'pager' });
  private readonly timing = h('span', { id: 'page-time', class: 'muted' });
  private details!: JobDetails;
  private loadSeq = 0;

  protected start(): void {
    this.queue = this.params.get('queue') ?? '';
    this.state = this.params.get('state') ?? '';
    this.page = Math.max(1, Number(this.params.get('page')) || 1);
    this.stateSel.append(h('option', { value: '', text: 'any state' }), ...STATES.map((s) => h('option', { value: s, text: s })));
    this.stateSel.value = this.state;
    this.queueSel.addEventListener('change', () => this.go({ queue: this.queueSel.value, page: 1 }));
    this.stateSel.addEventListener('change', () => this.go({ state: this.stateSel.value, page: 1 }));
    const search = h(
      'form',
      {
        class: 'inline',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const id = this.idInput.value.trim();
          if (!/^\d+$/.test(id)) return toast('A job id is a whole number', 'error');
          this.details.open(Number(id));
        },
      },
      this.idInput,
      h('button', { type: 'submit', text: 'Find' }),
    );
    this.details = new JobDetails(() => void this.load());
    this.root.append(
      h('h1', { text: 'Jobs' }),
      h('div', { class: 'toolbar' }, h('label', {}, 'Queue ', this.queueSel), h('label', {}, 'State ', this.stateSel), search, this.timing),
      h('div', { class: 'split' }, h('div', { class: 'main-col' }, this.list, this.pager), this.details.el),
    );
    const live = throttle(() => void this.load(), 1000);
    this.onCleanup(live.cancel);
    this.onCleanup(
      stream.subscribe((batch) => {
        // only the first page follows the stream: deeper pages would shift under the reader
        if (this.page === 1 && batch.some((ev) => this.queue === '' || ev.queue === this.queue)) live();
      }),
    );
    this.onCleanup(() => this.details.close());
    const id = this.params.get('id');
    if (id && /^\d+$/.test(id)) this.details.open(Number(id));
    void this.loadQueues().then(() => this.load()).then(() => this.ready());
  }

  private go(change: { queue?: string; state?: string; page?: number }): void {
    if (change.queue !== undefined) this.queue = change.queue;
    if (change.state !== undefined) this.state = change.state;
    if (change.page !== undefined) this.page = change.page;
    const p = new URLSearchParams();
    if (this.queue) p.set('queue', this.queue);
    if (this.state) p.set('state', this.state);
    if (this.page > 1) p.set('page', String(this.page));
    // the view stays mounted: replaceState does not fire hashchange
    history.replaceState(null, '', '#/jobs' + (p.toString() ? '?' + p.toString() : ''));
    void this.load();
  }

  private async loadQueues(): Promise<void> {
    try {
      this.queues = await api.get<QueueRow[]>('/queues');
    } catch {
      this.queues = [];
    }
    const names = this.queues.map((q) => q.name);
    if (this.queue && !names.includes(this.queue)) names.unshift(this.queue);
    this.queueSel.replaceChildren(h('option', { value: '', text: 'all queues' }), ...names.map((n) => h('option', { value: n, text: n })));
    this.queueSel.value = this.queue;
  }

  private total(): number | null {
    return this.queue && this.state ? knownTotal(this.queues.find((q) => q.name === this.queue), this.state) : null;
  }

  /** Fetch and show the current page; the time from request to rendered table is shown and kept. */
  async load(): Promise<void> {
    const seq = ++this.loadSeq;
    const t0 = performance.now();
    const q = new URLSearchParams({ limit: String(PAGE + 1), offset: String((this.page - 1) * PAGE) });
    if (this.queue) q.set('queue', this.queue);
    if (this.state) q.set('state', this.state);
    let jobs: JobRow[];
    try {
      [jobs] = await Promise.all([api.get<JobRow[]>('/jobs?' + q.toString()), this.page === 1 ? Promise.resolve() : this.refreshCounts()]);
    } catch (e) {
      if (seq === this.loadSeq && !this.gone) this.list.replaceChildren(h('div', { class: 'error', text: `Cannot list jobs: ${(e as Error).message}` }));
      return;
    }
    if (seq !== this.loadSeq || this.gone) return;
    const more = jobs.length > PAGE;
    if (more) jobs.length = PAGE;
    const now = Date.now();
    this.list.replaceChildren(
      table(
        ['Id', 'Queue', 'State', 'Priority', 'Attempts', 'Progress', 'Created', 'Runs', 'Data'],
        jobs.map((j) =>
          h(
            'tr',
            { class: 'click', 'data-id': j.id, onclick: () => this.details.open(j.id) },
            h('td', { class: 'mono', text: j.id }),
            h('td', { text: j.queue }),
            h('td', {}, h('span', { class: 'pill state-' + j.state, text: j.state })),
            h('td', { class: 'r', text: j.priority }),
            h('td', { class: 'r', text: `${j.attempts}/${j.max_attempts}` }),
            h('td', { class: 'r', text: j.progress > 0 ? j.progress + '%' : '' }),
            h('td', { title: new Date(j.created_at).toISOString(), text: relative(j.created_at, now) }),
            h('td', { text: j.state === 'delayed' ? relative(j.run_at, now) : '' }),
            h('td', { class: 'mono data', text: preview(j.data) }),
          ),
        ),
        this.page > 1 ? 'No jobs on this page.' : 'No jobs match.',
      ),
    );
    this.renderPager(more);
    const ms = performance.now() - t0;
    this.timing.dataset.ms = ms.toFixed(1);
    this.timing.dataset.page = String(this.page);
    this.timing.textContent = `page ${exact(this.page)} in ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  }

  private async refreshCounts(): Promise<void> {
    try {
      this.queues = await api.get<QueueRow[]>('/queues');
    } catch {
      // the page count is a nicety: keep the last one
    }
  }

  private renderPager(more: boolean): void {
    const total = this.total();
    const pages = total === null ? null : Math.max(1, Math.ceil(total / PAGE));
    const input = h('input', { type: 'number', min: 1, name: 'page', value: this.page, class: 'page-input' });
    const btn = (label: string, page: number, enabled: boolean) =>
      h('button', { type: 'button', 'data-page': label.toLowerCase(), disabled: !enabled, onclick: () => this.go({ page }), text: label });
    this.pager.replaceChildren(
      ...kids(
      btn('First', 1, this.page > 1),
      btn('Prev', this.page - 1, this.page > 1),
      h(
        'form',
        {
          class: 'inline',
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            const n = Math.floor(Number(input.value));
            if (n >= 1) this.go({ page: pages === null ? n : Math.min(n, pages) });
          },
        },
        'Page ',
        input,
        pages === null ? '' : ` of ${exact(pages)}`,
      ),
      btn('Next', this.page + 1, more),
      pages === null ? null : btn('Last', pages, this.page < pages),
      total === null ? null : h('span', { class: 'muted', title: exact(total), text: `${compact(total)} jobs` }),
      ),
    );
  }
}
