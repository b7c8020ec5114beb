import { h } from '../dom.js';
import { exact } from '../format.js';
import { EVENT_TYPES, stream, type JobEvent } from '../stream.js';
import { BaseView } from '../view.js';

/** Rows kept in the feed: older ones leave as new ones come (the page never grows without bound). */
export const FEED_LIMIT = 500;

function detail(ev: JobEvent): string {
  if (ev.event_type === 'job.failed') return ev.error ?? '';
  if (ev.event_type === 'job.progress') return `${ev.progress ?? 0}%`;
  if (ev.data !== undefined && ev.data !== null) {
    const s = JSON.stringify(ev.data);
    return s.length > 120 ? s.slice(0, 119) + '…' : s;
  }
  return '';
}

/** job.pushed/started/completed/failed/progress as they happen, filterable by queue and type. */
export class EventsView extends BaseView {
  private readonly body = h('tbody');
  private readonly queueInput = h('input', { type: 'search', name: 'queue', placeholder: 'all queues', list: 'event-queues', autocomplete: 'off' });
  private readonly queueList = h('datalist', { id: 'event-queues' });
  private readonly counter = h('span', { class: 'muted', id: 'feed-count' });
  private readonly types = new Map<string, HTMLInputElement>();
  private paused = false;
  private shown = 0;
  private readonly seenQueues = new Set<string>();

  protected start(): void {
    const typeBoxes = EVENT_TYPES.map((t) => {
      const box = h('input', { type: 'checkbox', name: t, checked: true });
      this.types.set(t, box);
      return h('label', { class: 'check' }, box, ' ' + t.slice(4));
    });
    const pause = h('button', {
      type: 'button',
      'data-action': 'pause-feed',
      onclick: () => {
        this.paused = !this.paused;
        pause.textContent = this.paused ? 'Resume feed' : 'Pause feed';
      },
      text: 'Pause feed',
    });
    const clear = h('button', {
      type: 'button',
      onclick: () => {
        this.body.replaceChildren();
        this.shown = 0;
        this.count();
      },
      text: 'Clear',
    });
    const q = this.params.get('queue');
    if (q) this.queueInput.value = q;
    this.root.append(
      h('h1', { text: 'Live events' }),
      h('div', { class: 'toolbar' }, h('label', {}, 'Queue ', this.queueInput, this.queueList), ...typeBoxes, pause, clear, this.counter),
      h('table', { class: 'grid feed' }, h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Queue', 'Job', 'Detail'].map((x) => h('th', { text: x })))), this.body),
    );
    this.onCleanup(stream.subscribe((batch) => this.add(batch)));
    this.count();
    this.ready();
  }

  private count(): void {
    this.counter.textContent = `${exact(this.shown)} shown (last ${FEED_LIMIT} kept) · ${exact(stream.received)} received`;
  }

  private add(batch: readonly JobEvent[]): void {
    for (const ev of batch) {
      if (!this.seenQueues.has(ev.queue) && this.seenQueues.size < 200) {
        this.seenQueues.add(ev.queue);
        this.queueList.append(h('option', { value: ev.queue }));
      }
    }
    if (this.paused) return this.count();
    const queue = this.queueInput.value.trim();
    // only the newest FEED_LIMIT of a burst can stay on screen: build nothing for the rest
    const rows: HTMLTableRowElement[] = [];
    for (let i = batch.length - 1; i >= 0 && rows.length < FEED_LIMIT; i--) {
      const ev = batch[i]!;
      if (queue !== '' && ev.queue !== queue) continue;
      if (!this.types.get(ev.event_type)?.checked) continue;
      rows.push(
        h(
          'tr',
          { 'data-event': ev.event_type, 'data-job': ev.job_id },
          h('td', { class: 'mono', text: new Date(ev.timestamp).toISOString().slice(11, 23) }),
          h('td', {}, h('span', { class: 'pill ev-' + ev.event_type.slice(4), text: ev.event_type })),
          h('td', { text: ev.queue }),
          h('td', {}, h('a', { class: 'mono', href: `#/jobs?id=${ev.job_id}`, text: String(ev.job_id) })),
          h('td', { class: 'mono data', text: detail(ev) }),
        ),
      );
    }
    if (rows.length > 0) {
      this.body.prepend(...rows);
      this.shown += rows.length;
      while (this.body.childElementCount > FEED_LIMIT) this.body.lastElementChild!.remove();
    }
    this.count();
  }
}
