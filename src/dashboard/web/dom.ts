import { compact, exact } from './format.js';

/** Tiny DOM building: text always goes through textContent, so data from jobs is never markup. */

type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** A count shown compact (1.2M) with the exact value on hover. */
export function num(n: number | null | undefined, cls = 'num'): HTMLElement {
  if (n === null || n === undefined) return h('span', { class: cls + ' muted', text: '–' });
  return h('span', { class: cls, title: exact(n), text: compact(n) });
}

export function table(head: string[], rows: HTMLTableRowElement[], empty = 'Nothing here yet.', cls = ''): HTMLTableElement {
  const t = h('table', { class: 'grid ' + cls }, h('thead', {}, h('tr', {}, ...head.map((x) => h('th', { text: x })))));
  const body = h('tbody');
  if (rows.length === 0) body.append(h('tr', { class: 'empty' }, h('td', { colspan: head.length, text: empty })));
  else body.append(...rows);
  t.append(body);
  return t;
}

export function card(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...children);
}

export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const box = document.getElementById('toasts')!;
  const el = h('div', { class: 'toast ' + kind, role: kind === 'error' ? 'alert' : 'status', text: message });
  box.append(el);
  while (box.children.length > 4) box.firstElementChild!.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 3500);
}

/** Show a modal built by `build`; resolves with what its buttons return (null on cancel/escape). */
function openModal<T>(build: (done: (v: T | null) => void) => Node[]): Promise<T | null> {
  const dlg = document.getElementById('modal') as HTMLDialogElement;
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: T | null) => {
      if (settled) return;
      settled = true;
      dlg.close();
      resolve(v);
    };
    dlg.replaceChildren(...build(done));
    dlg.onclose = () => done(null);
    dlg.showModal();
    (dlg.querySelector('input, button.primary') as HTMLElement | null)?.focus();
  });
}

export function confirmDialog(message: string, action: string): Promise<boolean> {
  return openModal<boolean>((done) => [
    h('p', { text: message }),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => done(null), text: 'Cancel' }),
      h('button', { type: 'button', class: 'primary danger', 'data-confirm': '1', onclick: () => done(true), text: action }),
    ),
  ]).then((v) => v === true);
}

/** Ask for a positive integer (a limit); null when cancelled. */
export function numberDialog(title: string, label: string, initial: number | null): Promise<number | null> {
  return openModal<number>((done) => {
    const input = h('input', { type: 'number', min: 1, step: 1, required: true, name: 'limit', value: initial ?? '' });
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const n = Number(input.value);
          if (Number.isInteger(n) && n >= 1) done(n);
          else input.setCustomValidity('A whole number of 1 or more'), input.reportValidity();
        },
      },
      h('h3', { text: title }),
      h('label', {}, label, input),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => done(null), text: 'Cancel' }),
        h('button', { type: 'submit', class: 'primary', text: 'Set' }),
      ),
    );
    input.addEventListener('input', () => input.setCustomValidity(''));
    return [form];
  });
}

/** Collapse bursts: `fn` runs at most once per `ms`, and once more after the last call. */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const t = () => {
    if (timer !== null) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(run, wait);
  };
  t.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return t;
}

/** Children for replaceChildren, with the absent ones left out. */
export function kids(...children: Child[]): Array<Node | string> {
  const out: Array<Node | string> = [];
  for (const c of children) if (c !== null && c !== undefined && c !== false) out.push(typeof c === 'number' ? String(c) : c);
  return out;
}

/** A Delete button: asks first, then runs `remove`, says so, and calls `done`. */
export function deleteButton(question: string, remove: () => Promise<unknown>, said: string, done: () => unknown): HTMLButtonElement {
  return h('button', {
    type: 'button',
    class: 'small danger',
    'data-action': 'delete',
    onclick: async () => {
      if (!(await confirmDialog(question, 'Delete'))) return;
      try {
        await remove();
        toast(said);
        await done();
      } catch (e) {
        toast((e as Error).message, 'error');
      }
    },
    text: 'Delete',
  });
}
