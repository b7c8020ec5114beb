import { api, ApiError } from './api.js';
import { stream } from './stream.js';
import type { View } from './view.js';
import { OverviewView } from './views/overview.js';
import { QueuesView } from './views/queues.js';
import { JobsView } from './views/jobs.js';
import { EventsView } from './views/events.js';
import { CronsView } from './views/crons.js';
import { WorkersView } from './views/workers.js';
import { WebhooksView } from './views/webhooks.js';
import { SettingsView } from './views/settings.js';

const VIEWS: Record<string, { title: string; make: () => View }> = {
  overview: { title: 'Overview', make: () => new OverviewView() },
  queues: { title: 'Queues', make: () => new QueuesView() },
  jobs: { title: 'Jobs', make: () => new JobsView() },
  events: { title: 'Live events', make: () => new EventsView() },
  crons: { title: 'Crons', make: () => new CronsView() },
  workers: { title: 'Workers', make: () => new WorkersView() },
  webhooks: { title: 'Webhooks', make: () => new WebhooksView() },
  settings: { title: 'Settings', make: () => new SettingsView() },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let current: View | null = null;
let signedIn = false;

/** `#/jobs?queue=a&state=failed` → ['jobs', params] */
function parseHash(): [string, URLSearchParams] {
  const h = location.hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const name = (q < 0 ? h : h.slice(0, q)) || 'overview';
  return [name, new URLSearchParams(q < 0 ? '' : h.slice(q + 1))];
}

function route(): void {
  if (!signedIn) return;
  const [name, params] = parseHash();
  const entry = VIEWS[name] ?? VIEWS.overview!;
  current?.unmount();
  const root = $('view');
  const fresh = document.createElement('div');
  fresh.className = 'view';
  fresh.dataset.view = name in VIEWS ? name : 'overview';
  root.replaceChildren(fresh);
  document.title = `${entry.title} · flashQ`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) a.classList.toggle('active', a.dataset.view === fresh.dataset.view);
  current = entry.make();
  current.mount(fresh, params);
}

function banner(text: string | null): void {
  const b = $('banner');
  b.hidden = text === null;
  b.textContent = text ?? '';
}

function showLogin(message: string | null): void {
  signedIn = false;
  stream.stop();
  current?.unmount();
  current = null;
  $('view').replaceChildren();
  $('login').hidden = false;
  const err = $('login-error');
  err.hidden = message === null;
  err.textContent = message ?? '';
  const input = $<HTMLInputElement>('login-token');
  input.value = '';
  input.focus();
}

function start(settings: { node_id?: string; version?: string }): void {
  signedIn = true;
  $('login').hidden = true;
  banner(null);
  $('node-label').textContent = `${settings.node_id ?? ''} · v${settings.version ?? '?'}`;
  stream.start();
  route();
}

async function boot(): Promise<void> {
  try {
    start(await api.get('/settings'));
  } catch (e) {
    if (e instanceof ApiError && e.unauthorized) return showLogin(api.token ? 'The saved token is no longer accepted: enter a valid one.' : null);
    banner(`${e instanceof Error ? e.message : String(e)}. Retrying…`);
    setTimeout(boot, 3000);
  }
}

async function signIn(ev: Event): Promise<void> {
  ev.preventDefault();
  const token = $<HTMLInputElement>('login-token').value.trim();
  const err = $('login-error');
  if (token === '') return;
  const button = document.querySelector<HTMLButtonElement>('#login-form button')!;
  button.disabled = true;
  try {
    const settings = await api.call<{ node_id?: string; version?: string }>('GET', '/settings', undefined, token);
    api.setToken(token);
    start(settings);
  } catch (e) {
    err.hidden = false;
    err.textContent =
      e instanceof ApiError && e.unauthorized
        ? `The server refused this token (${e.message}). Check it against the server's AUTH_TOKENS.`
        : `Could not sign in: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    button.disabled = false;
  }
}

function streamStatus(state: 'live' | 'connecting' | 'down'): void {
  const el = $('stream-status');
  el.className = 'stream ' + (state === 'live' ? 'on' : 'off');
  el.textContent = state === 'live' ? 'events: live' : state === 'connecting' ? 'events: connecting' : 'events: disconnected';
}

/** Views sign out by this event (they do not import the page's entry module). */
window.addEventListener('flashq:signout', () => {
  api.setToken(null);
  showLogin(null);
});

api.onUnauthorized = () => {
  if (signedIn) showLogin('The server no longer accepts this token: sign in again.');
};
stream.onStatus = streamStatus;
$('login-form').addEventListener('submit', (ev) => void signIn(ev));
window.addEventListener('hashchange', route);
void boot();
