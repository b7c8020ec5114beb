import { api, seg, type CronRow } from '../api.js';
import { card, deleteButton, h, table, toast } from '../dom.js';
import { isoTime, relative } from '../format.js';
import { CronUnsupportedError, parseSchedule } from '../cron.js';
import { BaseView } from '../view.js';

const PREVIEW_RUNS = 5;

/** Cron jobs: list with next runs, create with a live schedule check and preview, delete. */
export class CronsView extends BaseView {
  private readonly box = h('div');
  private readonly preview = h('div', { class: 'preview', id: 'cron-preview' });

  protected start(): void {
    const name = h('input', { name: 'name', required: true, placeholder: 'daily-cleanup', maxlength: 256 });
    const queue = h('input', { name: 'queue', required: true, placeholder: 'maintenance', pattern: '[A-Za-z0-9_.\\-]{1,256}' });
    const schedule = h('input', { name: 'schedule', required: true, placeholder: '0 0 3 * * *', class: 'mono', maxlength: 256 });
    const priority = h('input', { name: 'priority', type: 'number', value: 0, step: 1 });
    const data = h('textarea', { name: 'data', rows: 3, class: 'mono', placeholder: '{"action":"cleanup"}' });
    const error = h('div', { class: 'error', role: 'alert', hidden: true });
    const check = () => this.check(schedule.value);
    schedule.addEventListener('input', check);
    const form = h(
      'form',
      {
        class: 'stack',
        id: 'cron-form',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          error.hidden = true;
          let payload: unknown = {};
          if (data.value.trim() !== '') {
            try {
              payload = JSON.parse(data.value);
            } catch (e) {
              error.hidden = false;
              error.textContent = `Data is not JSON: ${(e as Error).message}`;
              return;
            }
          }
          try {
            await api.post(`/crons/${seg(name.value.trim())}`, { queue: queue.value.trim(), schedule: schedule.value.trim(), priority: Number(priority.value) || 0, data: payload });
            toast(`Cron ${name.value.trim()} saved`);
            form.reset();
            this.preview.replaceChildren();
            await this.load();
          } catch (e) {
            error.hidden = false;
            error.textContent = (e as Error).message;
          }
        },
      },
      h('div', { class: 'row' }, h('label', {}, 'Name', name), h('label', {}, 'Queue', queue), h('label', {}, 'Priority', priority)),
      h('label', {}, 'Schedule (sec min hour day-of-month month day-of-week, UTC; 5 fields mean second 0; */N alone: every N seconds)', schedule),
      this.preview,
      h('label', {}, 'Data (JSON)', data),
      error,
      h('div', {}, h('button', { type: 'submit', class: 'primary', text: 'Create cron' })),
    );
    this.root.append(h('h1', { text: 'Crons' }), this.box, card('New cron', form));
    this.every(5000, () => void this.load());
    void this.load().then(() => this.ready());
  }

  /** Validate as the user types: the next runs, or why the schedule is wrong. */
  private check(text: string): void {
    if (text.trim() === '') return this.preview.replaceChildren();
    try {
      const runs = parseSchedule(text).next(Date.now(), PREVIEW_RUNS);
      if (runs.length === 0) {
        this.preview.replaceChildren(h('span', { class: 'error', 'data-valid': '0', text: 'No run in the next 30 years' }));
        return;
      }
      this.preview.replaceChildren(h('div', { class: 'ok-text', 'data-valid': '1', text: 'Next runs (UTC):' }), h('ol', {}, ...runs.map((t) => h('li', { class: 'mono', 'data-run': t, text: isoTime(t) }))));
    } catch (e) {
      const unsupported = e instanceof CronUnsupportedError;
      this.preview.replaceChildren(
        h('span', {
          class: unsupported ? 'muted' : 'error',
          'data-valid': unsupported ? '?' : '0',
          text: unsupported ? `No preview for ${(e as Error).message}: the server checks it on create.` : `Invalid schedule: ${(e as Error).message}`,
        }),
      );
    }
  }

  private async load(): Promise<void> {
    const crons = await this.fetch<CronRow[]>(this.box, '/crons', 'list crons');
    if (crons === null) return;
    const now = Date.now();
    this.box.replaceChildren(
      table(
        ['Name', 'Queue', 'Schedule', 'Next run', 'Priority', 'Data', ''],
        crons.map((c) =>
          h(
            'tr',
            { 'data-cron': c.name },
            h('td', { text: c.name }),
            h('td', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(c.queue)}`, text: c.queue })),
            h('td', { class: 'mono', text: c.schedule }),
            h('td', { title: isoTime(c.next_run), text: relative(c.next_run, now) }),
            h('td', { class: 'r', text: c.priority }),
            h('td', { class: 'mono data', text: JSON.stringify(c.data) ?? '' }),
            h(
              'td',
              {},
              deleteButton(`Delete cron ${c.name}? Jobs it already pushed stay.`, () => api.del(`/crons/${seg(c.name)}`), `Cron ${c.name} deleted`, () => this.load()),
            ),
          ),
        ),
        'No crons.',
      ),
    );
  }
}
