import { api, ApiError, seg, type JobRow } from '../api.js';
import { confirmDialog, h, kids, toast, type Child } from '../dom.js';
import { duration, isoTime, relative } from '../format.js';

const CANCELLABLE = new Set(['waiting', 'delayed', 'waiting-children']);

function pretty(v: unknown): string {
  return v === undefined ? '' : JSON.stringify(v, null, 2);
}

/** The side panel of one job: everything GET /jobs/{id} tells, with cancel and retry. */
export class JobDetails {
  readonly el = h('aside', { class: 'details', hidden: true });
  private id = 0;
  /** the job as last drawn */
  private shown = '';
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly changed: () => void) {}

  open(id: number): void {
    this.id = id;
    this.shown = '';
    this.el.hidden = false;
    this.el.replaceChildren(h('div', { class: 'muted', text: `Loading job ${id}…` }));
    void this.load();
    if (this.timer === null) this.timer = setInterval(() => void this.load(), 2000);
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.el.hidden = true;
    this.id = 0;
  }

  private async load(): Promise<void> {
    const id = this.id;
    if (id === 0) return;
    let job: JobRow;
    try {
      // an unknown id answers 404 on /jobs/{id} but "unknown" on /state: ask that first, so a
      // cancelled or evicted job is a plain answer rather than a failed request
      const { state } = await api.get<{ state: string }>(`/jobs/${id}/state`);
      if (state === 'unknown') throw new ApiError(`Job ${id} not found`, 404);
      job = await api.get<JobRow>(`/jobs/${id}`);
    } catch (e) {
      if (id !== this.id) return;
      this.shown = '';
      const gone = e instanceof ApiError && e.status === 404;
      this.el.replaceChildren(this.head(`Job ${id}`), h('div', { class: gone ? 'muted' : 'error', 'data-missing': gone ? '1' : null, text: gone ? `Job ${id} not found (unknown, cancelled, or past retention).` : (e as Error).message }));
      if (gone && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
      return;
    }
    if (id !== this.id) return;
    // the panel refreshes every 2 s: redraw only on a change, so selections and clicks survive
    const seen = JSON.stringify(job);
    if (seen === this.shown) return;
    this.shown = seen;
    this.render(job);
  }

  private head(title: string, ...extra: Child[]): HTMLElement {
    return h('div', { class: 'details-head' }, h('h2', { text: title }), ...extra, h('button', { type: 'button', class: 'small', 'data-action': 'close', onclick: () => this.close(), text: '✕' }));
  }

  private render(j: JobRow): void {
    const now = Date.now();
    const row = (k: string, v: Child, title?: string) => h('tr', {}, h('th', { text: k }), h('td', { title: title ?? null }, v));
    const actions: HTMLElement[] = [];
    if (CANCELLABLE.has(j.state)) {
      actions.push(
        this.action('Cancel', 'danger', async () => {
          if (!(await confirmDialog(`Cancel job ${j.id} of ${j.queue}? It is removed and will not run.`, 'Cancel job'))) return false;
          await api.post(`/jobs/${j.id}/cancel`);
          toast(`Job ${j.id} cancelled`);
          return true;
        }),
      );
    }
    if (j.state === 'failed') {
      actions.push(
        this.action('Retry', 'primary', async () => {
          await api.post<number>(`/queues/${seg(j.queue)}/dlq/retry?id=${j.id}`);
          toast(`Job ${j.id} moved back to waiting`);
          return true;
        }),
      );
    }
    this.el.replaceChildren(
      ...kids(
      this.head(`Job ${j.id}`, h('span', { class: 'pill state-' + j.state, 'data-state': j.state, text: j.state })),
      h('div', { class: 'actions' }, ...actions),
      h(
        'table',
        { class: 'kv' },
        row('Queue', h('a', { href: `#/jobs?queue=${encodeURIComponent(j.queue)}`, text: j.queue })),
        row('Priority', String(j.priority) + (j.lifo ? ' (lifo)' : '')),
        row('Attempts', `${j.attempts} of ${j.max_attempts}`, `backoff ${duration(j.backoff)}`),
        // a failure's text also lands in progress_msg: show it once, as the last error
        row('Progress', h('span', {}, h('progress', { max: 100, value: j.progress }), ` ${j.progress}%${j.progress_msg && j.progress_msg !== j.error ? ' — ' + j.progress_msg : ''}`)),
        row('Created', `${isoTime(j.created_at)} (${relative(j.created_at, now)})`),
        row('Runs at', `${isoTime(j.run_at)} (${relative(j.run_at, now)})`),
        row('Started', j.started_at ? `${isoTime(j.started_at)} (${relative(j.started_at, now)})` : '–'),
        row('Timeout', j.timeout ? duration(j.timeout) : '–'),
        row('TTL', j.ttl ? duration(j.ttl) : '–'),
        row('Unique key', j.unique_key ?? '–'),
        row('Tags', j.tags.length ? j.tags.join(', ') : '–'),
        row(
          'Depends on',
          j.depends_on.length
            ? h('span', {}, ...j.depends_on.flatMap((d, i) => [i > 0 ? ', ' : '', h('a', { href: '#', class: 'mono', onclick: (ev: Event) => (ev.preventDefault(), this.open(d)), text: String(d) })]))
            : '–',
        ),
      ),
      j.error ? h('div', {}, h('h3', { text: 'Last error' }), h('pre', { class: 'error-text', 'data-field': 'error', text: j.error })) : null,
      h('h3', { text: 'Data' }),
      h('pre', { 'data-field': 'data', text: pretty(j.data) }),
      j.result !== null && j.result !== undefined ? h('div', {}, h('h3', { text: 'Result' }), h('pre', { 'data-field': 'result', text: pretty(j.result) })) : null,
      ),
    );
  }

  private action(label: string, cls: string, run: () => Promise<boolean>): HTMLElement {
    return h('button', {
      type: 'button',
      class: cls,
      'data-action': label.toLowerCase(),
      onclick: async (ev: Event) => {
        const b = ev.currentTarget as HTMLButtonElement;
        b.disabled = true;
        try {
          if (await run()) {
            await this.load();
            this.changed();
          }
        } catch (e) {
          toast(`Job ${this.id}: ${(e as Error).message}`, 'error');
        } finally {
          b.disabled = false;
        }
      },
      text: label,
    });
  }
}
