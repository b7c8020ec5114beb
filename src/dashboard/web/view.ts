import { api } from './api.js';
import { h } from './dom.js';

/** A page of the dashboard: mounted into the main area, unmounted (timers, subscriptions) on leave. */
export interface View {
  mount(root: HTMLElement, params: URLSearchParams): void;
  unmount(): void;
}

/** Base for views: collects what must be undone on unmount. */
export abstract class BaseView implements View {
  protected root!: HTMLElement;
  protected params!: URLSearchParams;
  private cleanups: Array<() => void> = [];
  protected gone = false;

  mount(root: HTMLElement, params: URLSearchParams): void {
    this.root = root;
    this.params = params;
    this.start();
  }

  protected abstract start(): void;

  /** Run `fn` every `ms` while mounted. */
  protected every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.cleanups.push(() => clearInterval(t));
  }

  protected onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Tell tests and people that the view shows real data now. */
  protected ready(): void {
    this.root.dataset.ready = '1';
  }

  /** GET `path` for this view: on failure `box` says why; null then, and once the view is gone. */
  protected async fetch<T>(box: HTMLElement, path: string, what: string): Promise<T | null> {
    try {
      const v = await api.get<T>(path);
      return this.gone ? null : v;
    } catch (e) {
      if (!this.gone) box.replaceChildren(h('div', { class: 'error', text: `Cannot ${what}: ${(e as Error).message}` }));
      return null;
    }
  }

  unmount(): void {
    this.gone = true;
    for (const fn of this.cleanups) fn();
    this.cleanups = [];
  }
}
