import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { Api, SseSub, WsSub } from './client.js';

const SECRET = 'tok-in-query-7f3a';
const PAGE = 'http://dashboard.example:8080';

/** A browser's preflight for a cross-origin call with a bearer token and a JSON body. */
function preflight(port: number, path: string, origin = PAGE): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
}

describe('CORS with the default CORS_ORIGINS (*) and AUTH_TOKENS set', () => {
  let server: RunningServer;
  let api: Api;
  before(async () => {
    // debug logging: the token in a query must not show up even there
    server = await startServer({ AUTH_TOKENS: SECRET, LOG_LEVEL: 'debug', SHARDS: '2' });
    api = new Api(server.httpPort, SECRET);
  });
  after(async () => {
    await server.stop();
  });

  test('a preflight is answered 204 without credentials, with the methods, headers and max-age', async () => {
    for (const path of ['/queues/emails/jobs', '/jobs/1/ack', '/crons/x', '/events', '/nope']) {
      const r = await preflight(server.httpPort, path);
      assert.equal(r.status, 204, path);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(r.headers.get('access-control-allow-methods')!.split(/,\s*/).sort(), ['DELETE', 'GET', 'OPTIONS', 'POST']);
      assert.deepEqual(r.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/).sort(), ['authorization', 'content-type']);
      assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
      assert.equal(await r.text(), '');
    }
  });

  test('every answer carries Access-Control-Allow-Origin: successes, 400, 401, 404', async () => {
    const h = { origin: PAGE };
    const answers = [
      await api.get('/stats', h),
      await api.post('/queues/cors-q/jobs', { data: 1 }, h),
      await api.post('/crons/bad', { queue: 'q', schedule: 'nope' }, h),
      await new Api(server.httpPort).get('/stats', h),
      await api.get('/nope', h),
      await api.get('/jobs/987654321', h),
      await new Api(server.httpPort).get('/health', h),
    ];
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 400, 401, 404, 404, 200]);
    for (const a of answers) assert.equal(a.headers['access-control-allow-origin'], '*', `${a.status} ${a.raw}`);
  });

  test('SSE with ?token= works cross-origin and carries the header; a wrong token is a 401 with it too', async () => {
    const refused = await SseSub.open(server.httpPort, '/events?token=wrong', { origin: PAGE });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], '*');
    assert.match(await refused.text(), /Authentication required/);
    const all = await SseSub.open(server.httpPort, `/events?token=${SECRET}`, { origin: PAGE });
    const one = await SseSub.open(server.httpPort, `/events/cors-sse?token=${SECRET}`, { origin: PAGE });
    for (const s of [all, one]) {
      assert.equal(s.status, 200);
      assert.equal(s.headers['access-control-allow-origin'], '*');
      assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    }
    const job = await api.push('cors-sse', { data: 1 });
    await all.waitFor((f) => f.event === 'job.pushed' && f.data.job_id === job.id, 'the event on /events');
    await one.waitFor((f) => f.event === 'job.pushed' && f.data.job_id === job.id, 'the event on /events/{queue}');
    all.close();
    one.close();
  });

  test('WebSocket with ?token= works; without a valid one the upgrade is refused', async () => {
    await assert.rejects(WsSub.open(server.httpPort, '/ws?token=wrong', { origin: PAGE }), (e: any) => e.status === 401);
    await assert.rejects(WsSub.open(server.httpPort, '/ws/cors-ws', { origin: PAGE }), (e: any) => e.status === 401);
    const all = await WsSub.open(server.httpPort, `/ws?token=${SECRET}`, { origin: PAGE });
    const one = await WsSub.open(server.httpPort, `/ws/cors-ws?token=${SECRET}`, { origin: PAGE });
    const job = await api.push('cors-ws', { data: 2 });
    await all.waitFor((e) => e.job_id === job.id, 'the event on /ws');
    await one.waitFor((e) => e.job_id === job.id, 'the event on /ws/{queue}');
    all.close();
    one.close();
  });

  test('the query token is for the event streams only: other routes still want the header', async () => {
    const anon = new Api(server.httpPort);
    for (const path of ['/stats', '/queues', '/jobs/1']) {
      const a = await anon.get(`${path}?token=${SECRET}`, { origin: PAGE });
      assert.equal(a.status, 401, path);
      assert.equal(a.error, 'Authentication required');
    }
    const pushed = await anon.post(`/queues/cors-q/jobs?token=${SECRET}`, { data: 1 });
    assert.equal(pushed.status, 401);
  });

  test('the token of a query is never echoed or logged', async () => {
    const a = await api.get(`/nope?token=${SECRET}`);
    assert.equal(a.status, 404);
    assert.ok(!a.raw.includes(SECRET), a.raw);
    const refused = await SseSub.open(server.httpPort, `/events/bad%20name?token=${SECRET}`);
    assert.equal(refused.status, 400);
    assert.ok(!(await refused.text()).includes(SECRET));
    // answered requests have been logged by now, if anything logs them (debug level)
    assert.ok(!server.output().includes(SECRET), 'the token appears in the server output');
  });
});

describe('CORS_ORIGINS as a list, and none', () => {
  let listed: RunningServer;
  let off: RunningServer;
  before(async () => {
    [listed, off] = await Promise.all([
      startServer({ CORS_ORIGINS: `${PAGE}, https://Ops.Example`, SHARDS: '0' }),
      startServer({ CORS_ORIGINS: 'none', SHARDS: '0' }),
    ]);
  });
  after(async () => {
    await Promise.all([listed.stop(), off.stop()]);
  });

  test('a listed origin is echoed (case of the list ignored), others get no header; the answer varies by Origin', async () => {
    const api = new Api(listed.httpPort);
    const yes = await api.get('/stats', { origin: PAGE });
    assert.equal(yes.headers['access-control-allow-origin'], PAGE);
    assert.match(String(yes.headers.vary), /Origin/);
    assert.equal((await api.get('/stats', { origin: 'https://ops.example' })).headers['access-control-allow-origin'], 'https://ops.example');
    const no = await api.get('/stats', { origin: 'https://evil.example' });
    assert.equal(no.status, 200);
    assert.equal(no.headers['access-control-allow-origin'], undefined);
    assert.match(String(no.headers.vary), /Origin/);
    const pre = await preflight(listed.httpPort, '/queues/q/jobs');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), PAGE);
    const preNo = await preflight(listed.httpPort, '/queues/q/jobs', 'https://evil.example');
    assert.equal(preNo.headers.get('access-control-allow-origin'), null);
    assert.equal(preNo.headers.get('access-control-allow-methods'), null);
    const sse = await SseSub.open(listed.httpPort, '/events', { origin: PAGE });
    assert.equal(sse.headers['access-control-allow-origin'], PAGE);
    sse.close();
  });

  test('none sends no CORS header and leaves OPTIONS to the 404 route', async () => {
    const api = new Api(off.httpPort);
    const a = await api.get('/stats', { origin: PAGE });
    assert.equal(a.status, 200);
    assert.equal(a.headers['access-control-allow-origin'], undefined);
    const pre = await preflight(off.httpPort, '/queues/q/jobs');
    assert.equal(pre.status, 404);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
  });
});
