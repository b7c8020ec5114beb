/**
 * What the views show, read off the page in Chromium and compared with the API: the overview's
 * node and cluster status, its charts of /metrics/history and its short numbers; a job found by
 * id with its result, attempts, progress, times and dependencies; the live feed's queue filter and
 * its bound; an interval cron (*∕N) created from the page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import { FlashqClient } from '../../src/client/index.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { Api } from '../http/client.js';
import { clickFresh, launch, openView, textOf, waitInPage, watchedPage } from './browser.js';

const STREAM_LIVE = `document.querySelector('#stream-status')?.textContent === 'events: live'`;

/** The job panel's rows, label → text. */
function panel(page: Page): Promise<Record<string, string>> {
  return page.$$eval('.details table.kv tr', (rows) =>
    Object.fromEntries(rows.map((r) => [(r.querySelector('th') as any).textContent as string, ((r.querySelector('td') as any).textContent as string).trim()])),
  );
}

const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

describe('web dashboard views show what the API says (Chromium)', () => {
  let server: RunningServer;
  let api: Api;
  let client: FlashqClient;
  let browser: Browser;

  before(async () => {
    server = await startServer();
    api = new Api(server.httpPort);
    client = new FlashqClient({ port: server.port });
    await client.connect();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await client?.close();
    await server?.stop();
  });

  test('overview: node and cluster status from /health and /cluster/nodes, charts from /metrics/history, short numbers', async () => {
    // 1,500 waiting jobs: the Waiting tile reads 1.5k, the exact number on hover
    for (let b = 0; b < 3; b++) await client.pushBatch('ov', Array.from({ length: 500 }, (_, i) => ({ data: { i } })));
    // a history sample that counted them
    await waitFor(async () => ((await api.get('/metrics/history')).data as Array<{ queued: number }>).some((p) => p.queued === 1500), 15_000, 'a history sample with 1500 queued');
    const health = (await api.get('/health')).data as { status: string; node_id: string };
    const nodes = (await api.get('/cluster/nodes')).data as Array<{ node_id: string; host: string; port: number }>;
    assert.ok(nodes.length >= 1);

    const w = await watchedPage(browser);
    await openView(w.page, api.base, 'overview');
    await waitInPage(w.page, `document.querySelector('[data-tile="queued"] .tile-value')?.textContent === '1.5k'`, 10_000, 'Waiting 1.5k');
    assert.equal(await w.page.$eval('[data-tile="queued"] .tile-value', (el) => (el as any).title as string), '1,500');
    assert.equal(await textOf(w.page, '[data-health]'), health.status);
    assert.equal(await w.page.$eval('[data-health]', (el) => (el as any).dataset.health as string), health.status);
    const rows = await w.page.$$eval('.health + table.grid tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td as any).textContent as string)));
    assert.deepEqual(rows.map((r) => [r[0], r[1]]), nodes.map((n) => [n.node_id, `${n.host}:${n.port}`]));

    // three charts; hovering the last point of "Jobs by state" shows the sampled 1,500 waiting
    await w.page.waitForFunction(`document.querySelectorAll('.chart .uplot').length === 3`, { timeout: 10_000 });
    const over = (await w.page.$$('.chart .uplot .u-over'))[2]!;
    const box = (await over.boundingBox())!;
    await w.page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
    // the legend shows the values under the cursor: label, then value
    const legend = () => w.page.$$eval('.chart .u-legend', (ls) => Array.from(ls[2]!.querySelectorAll('tr')).map((tr) => ((tr as any).textContent as string).trim()));
    await waitFor(async () => (await legend()).includes('waiting1.5k'), 5000, 'the waiting series at 1.5k under the cursor').catch(async (e: Error) => {
      throw new Error(`${e.message}: legend ${JSON.stringify(await legend())}`);
    });
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('a job found by id shows its result, attempts, progress with message, times and dependencies', async () => {
    const parent = await api.push('det2', { data: { w: 100 }, max_attempts: 3 });
    const child = await api.push('det2', { data: { w: 200 }, depends_on: [parent.id] });
    const [pulled] = (await api.get('/queues/det2/jobs?count=1')).data as Array<{ id: number }>;
    assert.equal(pulled!.id, parent.id);
    assert.equal((await api.post(`/jobs/${parent.id}/progress`, { progress: 40, message: 'resizing' })).status, 200);

    const w = await watchedPage(browser);
    await openView(w.page, api.base, 'jobs');
    await w.page.type('input[name="id"]', String(parent.id));
    await w.page.$eval('input[name="id"]', (el) => (el as any).form.requestSubmit());
    await w.page.waitForSelector('.details [data-state="active"]', { timeout: 10_000 });
    const active = (await api.get(`/jobs/${parent.id}`)).data;
    let p = await panel(w.page);
    assert.equal(p.Attempts, `${active.attempts} of 3`);
    assert.equal(p.Progress, '40% — resizing');
    assert.equal(p.Created!.startsWith(iso(active.created_at)), true, p.Created);
    assert.equal(p.Started!.startsWith(iso(active.started_at)), true, p.Started);

    assert.equal((await api.post(`/jobs/${parent.id}/ack`, { result: { resized: 100 } })).status, 200);
    await w.page.waitForSelector('.details [data-state="completed"]', { timeout: 10_000 });
    assert.deepEqual(JSON.parse((await textOf(w.page, '.details pre[data-field="result"]'))!), { resized: 100 });

    // the child lists its parent as a link that opens it
    await w.page.$eval('input[name="id"]', (el) => ((el as any).value = ''));
    await w.page.type('input[name="id"]', String(child.id));
    await w.page.$eval('input[name="id"]', (el) => (el as any).form.requestSubmit());
    await w.page.waitForFunction(`document.querySelector('.details h2')?.textContent === 'Job ${child.id}'`, { timeout: 10_000 });
    p = await panel(w.page);
    assert.equal(p['Depends on'], String(parent.id));
    await clickFresh(w.page, '.details table.kv a.mono');
    await w.page.waitForFunction(`document.querySelector('.details h2')?.textContent === 'Job ${parent.id}'`, { timeout: 10_000 });

    // a wrong id says so instead of showing nothing
    await w.page.$eval('input[name="id"]', (el) => ((el as any).value = ''));
    await w.page.type('input[name="id"]', '987654321');
    await w.page.$eval('input[name="id"]', (el) => (el as any).form.requestSubmit());
    await w.page.waitForSelector('.details [data-missing]', { timeout: 10_000 });
    assert.match((await textOf(w.page, '.details [data-missing]'))!, /Job 987654321 not found/);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('the live feed filters by queue and keeps at most 500 rows', async () => {
    const w = await watchedPage(browser);
    await openView(w.page, api.base, 'events', 'queue=feed-a');
    await waitInPage(w.page, STREAM_LIVE, 10_000, 'event stream live');
    const other = await api.push('feed-b', { data: 'b' });
    const mine = await api.push('feed-a', { data: 'a' });
    await w.page.waitForSelector(`tr[data-event="job.pushed"][data-job="${mine.id}"]`, { timeout: 10_000 });
    assert.equal(await w.page.$(`tr[data-job="${other.id}"]`), null, 'feed-b is filtered out');

    // 1,200 events in a burst: the page keeps the newest 500
    const ids = (await Promise.all([0, 1, 2].map((b) => client.pushBatch('feed-a', Array.from({ length: 400 }, (_, i) => ({ data: { b, i } })))))).flat();
    const newest = Math.max(...ids);
    await w.page.waitForSelector(`tr[data-job="${newest}"]`, { timeout: 15_000 });
    await waitInPage(w.page, `document.querySelectorAll('.feed tbody tr').length === 500`, 10_000, '500 rows kept');
    assert.match((await textOf(w.page, '#feed-count'))!, /last 500 kept/);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  test('an interval cron (*/30) is previewed every 30 s from now and created as given', async () => {
    const w = await watchedPage(browser);
    await openView(w.page, api.base, 'crons');
    const t0 = Date.now();
    await w.page.type('#cron-form input[name="schedule"]', '*/30');
    await w.page.waitForSelector('#cron-preview [data-valid="1"]');
    const runs = await w.page.$$eval('#cron-preview li', (els) => els.map((e) => Number((e as any).dataset.run)));
    assert.equal(runs.length, 5);
    assert.ok(runs[0]! >= t0 + 30_000 && runs[0]! <= Date.now() + 30_000, `first run ${runs[0]! - t0} ms ahead`);
    for (let i = 1; i < runs.length; i++) assert.equal(runs[i]! - runs[i - 1]!, 30_000);
    await w.page.type('#cron-form input[name="name"]', 'half-minute');
    await w.page.type('#cron-form input[name="queue"]', 'ticks');
    await clickFresh(w.page, '#cron-form button[type="submit"]');
    await w.page.waitForSelector('tr[data-cron="half-minute"]', { timeout: 10_000 });
    const cron = ((await api.get('/crons')).data as Array<{ name: string; schedule: string; next_run: number }>).find((c) => c.name === 'half-minute')!;
    assert.equal(cron.schedule, '*/30');
    assert.ok(Math.abs(cron.next_run - runs[0]!) < 30_000, 'the server runs it every 30 s from its creation');
    assert.equal(await textOf(w.page, 'tr[data-cron="half-minute"] td.mono'), '*/30');
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });
});
