import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const TOKEN = 'browser-tok-91c2';

/**
 * What a dashboard on another origin does: a JSON POST with a bearer token (preflighted), reading
 * an error answer, an EventSource and a WebSocket that carry the token in the query (they cannot
 * set headers). The page reports what it saw to its own server.
 */
function page(api: string): string {
  return `<!doctype html><script type="module">
const api = ${JSON.stringify(api)};
const token = ${JSON.stringify(TOKEN)};
const out = {};
const step = async (name, fn) => { try { out[name] = await fn(); } catch (e) { out[name] = { thrown: String(e) }; } };
const push = (n) => fetch(api + '/queues/browser-q/jobs', {
  method: 'POST',
  headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
  body: JSON.stringify({ data: { n } }),
}).then(async (r) => ({ status: r.status, body: await r.json() }));
await step('push', () => push(1));
await step('unauthorized', async () => { const r = await fetch(api + '/stats'); return { status: r.status, body: await r.json() }; });
await step('sse', () => new Promise((resolve, reject) => {
  const es = new EventSource(api + '/events/browser-q?token=' + token);
  const timer = setTimeout(() => { es.close(); reject(new Error('no SSE event')); }, 10000);
  es.addEventListener('job.pushed', (e) => { clearTimeout(timer); es.close(); resolve(JSON.parse(e.data)); });
  es.onopen = () => push(2);
}));
await step('ws', () => new Promise((resolve, reject) => {
  const ws = new WebSocket(api.replace('http', 'ws') + '/ws/browser-q?token=' + token);
  const timer = setTimeout(() => { ws.close(); reject(new Error('no WebSocket event')); }, 10000);
  ws.onmessage = (m) => { clearTimeout(timer); ws.close(); resolve(JSON.parse(m.data)); };
  ws.onopen = () => push(3);
  ws.onerror = () => reject(new Error('WebSocket error'));
}));
await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
</script>`;
}

describe('a browser page on another origin uses the API, SSE and WebSocket (real Chromium)', { skip: CHROMIUM === undefined ? 'no Chromium' : false }, () => {
  let server: RunningServer;
  let site: Server;
  let browser: ChildProcess | null = null;
  let profile: string;
  let result: Record<string, any> | null = null;

  before(async () => {
    server = await startServer({ AUTH_TOKENS: TOKEN, SHARDS: '0' });
    const api = `http://127.0.0.1:${server.httpPort}`;
    site = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/result') {
        let body = '';
        req.setEncoding('utf8').on('data', (d: string) => (body += d));
        req.on('end', () => {
          result = JSON.parse(body) as Record<string, any>;
          res.end();
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(api));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    profile = mkdtempSync(join(tmpdir(), 'flashq-chromium-'));
  });

  after(async () => {
    if (browser !== null && browser.exitCode === null) {
      const exited = new Promise((resolve) => browser!.once('exit', resolve));
      browser.kill('SIGKILL');
      await exited;
    }
    await new Promise((resolve) => site.close(resolve));
    await server.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  test('the preflighted POST, the readable 401, SSE and WebSocket with ?token= all work', { timeout: 60_000 }, async () => {
    const addr = site.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
    let log = '';
    browser = spawn(CHROMIUM!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    browser.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitFor(() => result, 45_000, `the page's report (browser output:\n${log.slice(-2000)})`);
    const r = result!;
    assert.equal(r.push.status, 200, JSON.stringify(r.push));
    assert.deepEqual(r.push.body.data.data, { n: 1 });
    assert.deepEqual(r.unauthorized, { status: 401, body: { ok: false, data: null, error: 'Authentication required' } });
    assert.equal(r.sse.event_type, 'job.pushed', JSON.stringify(r.sse));
    assert.equal(r.sse.queue, 'browser-q');
    assert.equal(r.ws.event_type, 'job.pushed', JSON.stringify(r.ws));
    assert.equal(r.ws.queue, 'browser-q');
    assert.ok(!server.output().includes(TOKEN), 'the token appears in the server output');
  });
});
