/**
 * Screenshots of every dashboard view for the README (docs/dashboard-*.png): starts a server,
 * gives it a minute of mixed traffic so the charts have history, then shoots each view in Chromium.
 * Run after a build: `node dist/test/dashboard/screenshots.js`.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FlashqClient } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { Api } from '../http/client.js';
import { launch, openView, waitInPage } from './browser.js';

const out = fileURLToPath(new URL('../../../docs/', import.meta.url));
const TRAFFIC_MS = Number(process.env.TRAFFIC_MS ?? 65_000);

const server = await startServer();
// a failed run must not leave the server behind
process.on('exit', () => server.proc.kill());
const api = new Api(server.httpPort);
const client = new FlashqClient({ host: '127.0.0.1', port: server.port });
await client.connect();

const body = (i: number) => ({ data: { user: `user${i}@example.com`, template: i % 2 ? 'welcome' : 'digest' }, priority: i % 3, max_attempts: 3 });
await client.pushBatch('reports', Array.from({ length: 40 }, (_, i) => ({ data: { report: `weekly-${i}` }, delay: 3_600_000 })));
await api.post('/queues/reports/rate-limit', { limit: 250_000 });
await api.post('/queues/thumbnails/concurrency', { limit: 8 });
await api.post('/crons/nightly-report', { queue: 'reports', schedule: '0 0 3 * * *', data: { kind: 'nightly' } });
await api.post('/crons/cache-warmup', { queue: 'maintenance', schedule: '0 */15 * * * *', data: { target: 'cdn' }, priority: 5 });
await api.post('/crons/heartbeat', { queue: 'maintenance', schedule: '*/30', data: {} });
await api.post('/webhooks', { url: 'https://hooks.example.com/flashq/failures', events: ['job.failed'], queue: 'thumbnails', secret: 'hmac-key-not-shown' });
await api.post('/webhooks', { url: 'https://ops.example.com/events', events: ['*'] });
const beat = () =>
  Promise.all([
    api.post('/workers/mailer-1/heartbeat', { queues: ['emails'], concurrency: 32 }),
    api.post('/workers/mailer-2/heartbeat', { queues: ['emails'], concurrency: 32 }),
    api.post('/workers/thumbs-a/heartbeat', { queues: ['thumbnails'], concurrency: 8 }),
  ]);

// traffic: bursts of pushes into three queues, workers completing most and failing a few
const until = Date.now() + TRAFFIC_MS;
let n = 0;
while (Date.now() < until) {
  const wave = 300 + Math.round(700 * Math.abs(Math.sin(n / 9)));
  await client.pushBatch('emails', Array.from({ length: wave }, (_, i) => body(n * 1000 + i)));
  await client.pushBatch('thumbnails', Array.from({ length: Math.round(wave / 3) }, (_, i) => ({ data: { image: `img-${n}-${i}.jpg` }, max_attempts: 1 })));
  const mail = await client.pullBatch('emails', Math.round(wave * 0.9), { timeout: 0 });
  if (mail.length) await client.ackBatch(mail.map((j) => j.id));
  const thumbs = await client.pullBatch('thumbnails', Math.round(wave / 4), { timeout: 0 });
  for (const [i, j] of thumbs.entries()) {
    if (i % 25 === 0) await client.fail(j.id, 'ImageMagick: corrupt JPEG data (premature end of data segment)');
    else await client.ack(j.id, { width: 640 });
  }
  if (n % 10 === 0) await beat();
  n++;
  await new Promise((r) => setTimeout(r, 400));
}
await beat();
await api.post('/queues/emails/pause');
const active = await client.pullBatch('reports', 3, { timeout: 0 });
if (active[0]) await client.progress(active[0].id, 60, 'rendering page 3 of 5');

const browser = await launch();
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 900 });
mkdirSync(out, { recursive: true });
const shoot = (name: string) => page.screenshot({ path: `${out}dashboard-${name}.png` as `${string}.png` });

await openView(page, api.base, 'overview');
await waitInPage(page, `document.querySelectorAll('.uplot').length === 3`, 10_000, 'charts');
await shoot('overview');
await openView(page, api.base, 'queues');
await shoot('queues');
const failed = (await api.get('/jobs?queue=thumbnails&state=failed&limit=1')).data[0];
await openView(page, api.base, 'jobs', `queue=thumbnails&state=failed&id=${failed.id}`);
await page.waitForSelector('.details [data-state]');
await shoot('jobs');
await openView(page, api.base, 'events');
// a little live traffic for the feed
for (let i = 0; i < 6; i++) {
  const jobs = await client.pullBatch('thumbnails', 4, { timeout: 0 });
  for (const j of jobs) await client.progress(j.id, 50, 'resizing');
  await client.ackBatch(jobs.map((j) => j.id));
  await client.pushBatch('thumbnails', Array.from({ length: 5 }, (_, k) => ({ data: { image: `live-${i}-${k}.jpg` } })));
}
await page.waitForSelector('tr[data-event="job.completed"]', { timeout: 10_000 });
await shoot('events');
await openView(page, api.base, 'crons');
await page.type('#cron-form input[name="schedule"]', '0 30 9 * * MON-FRI');
await page.waitForSelector('#cron-preview [data-valid="1"]');
await shoot('crons');
for (const v of ['workers', 'webhooks', 'settings']) {
  await openView(page, api.base, v);
  await shoot(v);
}
await browser.close();
await client.close();
await server.stop();
console.log(`screenshots written to ${out}`);
