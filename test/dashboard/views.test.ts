import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { Api } from '../http/client.js';
import { clickFresh, launch, openView, textOf, waitInPage, watchedPage, type Watched } from './browser.js';

const STREAM_LIVE = `document.querySelector('#stream-status')?.textContent === 'events: live'`;
const VIEWS = ['overview', 'queues', 'jobs', 'events', 'crons', 'workers', 'webhooks', 'settings'];

/** Click, then wait for the API to show the effect; click again if a re-render swallowed the click. */
async function clickUntil(page: Page, selector: string, done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await page.waitForSelector(selector, { timeout: 10_000 });
    await page.click(selector).catch(() => undefined);
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      if (await done()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`timed out: ${what}`);
}

async function confirmModal(page: Page): Promise<void> {
  await clickFresh(page, 'dialog[open] button[data-confirm]');
}

describe('web dashboard in Chromium', () => {
  let server: RunningServer;
  let api: Api;
  let browser: Browser;
  let base: string;

  before(async () => {
    server = await startServer();
    api = new Api(server.httpPort);
    base = api.base;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('/ and /dashboard serve the page; assets are typed, cached for good under a build path, revalidated by ETag', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const html = await res.text();
      const script = /src="(\/dashboard\/assets\/[0-9a-f]{12}\/js\/main\.js)"/.exec(html);
      assert.ok(script, 'the page loads its script from a build path');
      const js = await fetch(base + script[1]);
      assert.equal(js.status, 200);
      assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const chart = await fetch(base + script[1].replace('js/main.js', 'vendor/uPlot.iife.min.js'));
      assert.equal(chart.status, 200, 'the chart library ships with the package');
      const again = await fetch(base + path, { headers: { 'if-none-match': res.headers.get('etag')! } });
      assert.equal(again.status, 304);
    }
    const missing = await fetch(base + '/dashboard/assets/000000000000/js/main.js');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { ok: boolean }).ok, false);
  });

  test('every view loads with data and no console error; webhook secrets never reach the page', async () => {
    const dead = await api.push('mail', { data: { to: 'b@example.com' }, max_attempts: 1 });
    await api.push('mail', { data: { to: 'a@example.com' } });
    assert.equal((await api.get('/queues/mail/jobs?count=1')).data[0].id, dead.id);
    assert.equal((await api.post(`/jobs/${dead.id}/fail`, { error: 'SMTP down' })).status, 200);
    assert.equal((await api.post('/crons/nightly', { queue: 'mail', schedule: '0 0 3 * * *', data: {} })).status, 200);
    assert.equal((await api.post('/webhooks', { url: 'https://hooks.example.com/x', events: ['job.failed'], secret: 'very-secret-key' })).status, 200);
    assert.equal((await api.post('/workers/w-1/heartbeat', { queues: ['mail'], concurrency: 4 })).status, 200);

    const w: Watched = await watchedPage(browser);
    for (const view of VIEWS) {
      await openView(w.page, base, view);
      const text = await w.page.$eval('#view', (el) => (el as any).innerText as string);
      assert.ok(text.length > 20, `${view} shows something`);
      assert.ok(!text.includes('very-secret-key'), 'the secret is not on the page');
    }
    assert.deepEqual(w.errors, []);
    // the views show what the API says
    await openView(w.page, base, 'queues');
    assert.equal(await textOf(w.page, 'tr[data-queue="mail"] td:nth-child(6)'), '1');
    await openView(w.page, base, 'webhooks');
    assert.equal(await textOf(w.page, 'td[data-secret]'), '••••••••');
    await openView(w.page, base, 'workers');
    assert.ok(await w.page.$('tr[data-worker="w-1"]'));
    await openView(w.page, base, 'crons');
    assert.ok(await w.page.$('tr[data-cron="nightly"]'));
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('jobs pushed through the API appear live: event feed, job table, overview totals', async () => {
    const w = await watchedPage(browser);
    await openView(w.page, base, 'events');
    await waitInPage(w.page, STREAM_LIVE, 10_000, 'event stream live');
    const a = await api.push('live', { data: { n: 1 } });
    await w.page.waitForSelector(`tr[data-event="job.pushed"][data-job="${a.id}"]`, { timeout: 10_000 });
    // a pull and an ack through the API show as started and completed
    const [pulled] = (await api.get('/queues/live/jobs?count=1')).data;
    assert.equal(pulled.id, a.id);
    await api.post(`/jobs/${a.id}/ack`, { result: { ok: true } });
    await w.page.waitForSelector(`tr[data-event="job.completed"][data-job="${a.id}"]`, { timeout: 10_000 });

    await openView(w.page, base, 'jobs', 'queue=live');
    await waitInPage(w.page, STREAM_LIVE, 10_000, 'event stream live');
    const b = await api.push('live', { data: { n: 2 } });
    await w.page.waitForSelector(`tr[data-id="${b.id}"]`, { timeout: 10_000 });

    await openView(w.page, base, 'overview');
    await waitInPage(w.page, STREAM_LIVE, 10_000, 'event stream live');
    await api.push('live', { data: { n: 3 } });
    const pushed = (await api.get('/metrics')).data.total_pushed as number;
    await waitInPage(w.page, `document.querySelector('[data-tile="pushed"] .tile-value')?.title === ${JSON.stringify(pushed.toLocaleString('en-US'))}`, 10_000, 'overview total');
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('pause, resume, limits and DLQ retry-all done on the Queues page show through the API', async () => {
    await api.push('ops', { data: {} });
    const queue = async () => (await api.get('/queues')).data.find((q: { name: string }) => q.name === 'ops');
    const w = await watchedPage(browser);
    await openView(w.page, base, 'queues');
    await clickUntil(w.page, 'tr[data-queue="ops"] button[data-action="pause"]', async () => (await queue()).paused === true, 'pause');
    await w.page.waitForSelector('tr[data-queue="ops"] [data-paused="true"]');
    await clickUntil(w.page, 'tr[data-queue="ops"] button[data-action="resume"]', async () => (await queue()).paused === false, 'resume');

    await clickFresh(w.page, 'tr[data-queue="ops"] button[data-action="rate-limit"]');
    await w.page.waitForSelector('dialog[open] input[name="limit"]');
    await w.page.type('dialog[open] input[name="limit"]', '250000');
    await clickFresh(w.page, 'dialog[open] button[type="submit"]');
    await waitFor(async () => (await queue()).rate_limit === 250000, 10_000, 'rate limit set');
    await w.page.waitForSelector('tr[data-queue="ops"] td[data-rate="250000"]');
    assert.equal(await textOf(w.page, 'tr[data-queue="ops"] td[data-rate="250000"]'), '250k/s');
    await clickUntil(w.page, 'tr[data-queue="ops"] button[data-action="clear-rate"]', async () => (await queue()).rate_limit === null, 'clear rate');

    await clickFresh(w.page, 'tr[data-queue="ops"] button[data-action="concurrency"]');
    await w.page.waitForSelector('dialog[open] input[name="limit"]');
    await w.page.type('dialog[open] input[name="limit"]', '3');
    await clickFresh(w.page, 'dialog[open] button[type="submit"]');
    await waitFor(async () => (await queue()).concurrency_limit === 3, 10_000, 'concurrency set');
    await clickUntil(w.page, 'tr[data-queue="ops"] button[data-action="clear-concurrency"]', async () => (await queue()).concurrency_limit === null, 'clear concurrency');

    // two jobs in the DLQ, retried from the page
    for (let i = 0; i < 2; i++) await api.push('ops', { data: { i }, max_attempts: 1 });
    const pulled = (await api.get('/queues/ops/jobs?count=3')).data as Array<{ id: number }>;
    for (const j of pulled.slice(0, 2)) await api.post(`/jobs/${j.id}/fail`, { error: 'x' });
    await waitFor(async () => (await queue()).dlq === 2, 5000, 'two in the DLQ');
    await w.page.waitForSelector('tr[data-queue="ops"] button[data-action="retry-dlq"]', { timeout: 10_000 });
    await clickFresh(w.page, 'tr[data-queue="ops"] button[data-action="retry-dlq"]');
    await confirmModal(w.page);
    await waitFor(async () => (await queue()).dlq === 0, 10_000, 'DLQ retried');
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test("a job's details show its error; cancel and retry done on the page show through the API", async () => {
    const w = await watchedPage(browser);
    const later = await api.push('det', { data: { k: 'v' }, delay: 600_000 });
    await openView(w.page, base, 'jobs', `id=${later.id}`);
    await w.page.waitForSelector('.details [data-state="delayed"]');
    assert.deepEqual(JSON.parse((await textOf(w.page, '.details pre[data-field="data"]'))!), { k: 'v' });
    await clickFresh(w.page, '.details button[data-action="cancel"]');
    await confirmModal(w.page);
    await waitFor(async () => (await api.get(`/jobs/${later.id}`)).status === 404, 10_000, 'cancelled');
    await w.page.waitForSelector('.details [data-missing]', { timeout: 10_000 });

    const failing = await api.push('det', { data: {}, max_attempts: 1 });
    await api.get('/queues/det/jobs?count=1');
    await api.post(`/jobs/${failing.id}/fail`, { error: 'disk full on /var/spool' });
    await openView(w.page, base, 'jobs', `queue=det&state=failed`);
    await clickFresh(w.page, `tr[data-id="${failing.id}"]`);
    await w.page.waitForSelector('.details [data-state="failed"]');
    assert.equal(await textOf(w.page, '.details pre[data-field="error"]'), 'disk full on /var/spool');
    await clickFresh(w.page, '.details button[data-action="retry"]');
    await waitFor(async () => (await api.get(`/jobs/${failing.id}`)).data?.state === 'waiting', 10_000, 'retried');
    await w.page.waitForSelector('.details [data-state="waiting"]', { timeout: 10_000 });
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('a cron is created with its schedule checked and its next runs shown', async () => {
    const w = await watchedPage(browser);
    await openView(w.page, base, 'crons');
    await w.page.type('#cron-form input[name="schedule"]', '0 0 25 * * *');
    await w.page.waitForSelector('#cron-preview [data-valid="0"]');
    assert.match((await textOf(w.page, '#cron-preview'))!, /out of range/);
    await w.page.$eval('#cron-form input[name="schedule"]', (el) => ((el as any).value = ''));
    await w.page.type('#cron-form input[name="schedule"]', '0 30 9 * * 1-5');
    await w.page.waitForSelector('#cron-preview [data-valid="1"]');
    const runs = await w.page.$$eval('#cron-preview li', (els) => els.map((e) => Number((e as any).dataset.run)));
    assert.equal(runs.length, 5);
    for (const t of runs) {
      const d = new Date(t);
      assert.ok(d.getUTCHours() === 9 && d.getUTCMinutes() === 30 && d.getUTCDay() >= 1 && d.getUTCDay() <= 5, d.toISOString());
    }
    await w.page.type('#cron-form input[name="name"]', 'standup');
    await w.page.type('#cron-form input[name="queue"]', 'meetings');
    await w.page.type('#cron-form textarea[name="data"]', '{"room":"A"}');
    await clickFresh(w.page, '#cron-form button[type="submit"]');
    await w.page.waitForSelector('tr[data-cron="standup"]', { timeout: 10_000 });
    const cron = (await api.get('/crons')).data.find((c: { name: string }) => c.name === 'standup');
    assert.deepEqual({ queue: cron.queue, schedule: cron.schedule, data: cron.data }, { queue: 'meetings', schedule: '0 30 9 * * 1-5', data: { room: 'A' } });
    assert.equal(cron.next_run, runs[0], "the server's next run is the preview's first");

    await clickFresh(w.page, 'tr[data-cron="standup"] button[data-action="delete"]');
    await confirmModal(w.page);
    await waitFor(async () => !(await api.get('/crons')).data.some((c: { name: string }) => c.name === 'standup'), 10_000, 'cron deleted');
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });
});
