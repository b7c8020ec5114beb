import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { Api, SseSub, WsSub } from './client.js';

describe('HTTP auth with AUTH_TOKENS', () => {
  let server: RunningServer;
  let anon: Api;
  let authed: Api;
  before(async () => {
    server = await startServer({ AUTH_TOKENS: 'tok-one, tok-two' });
    anon = new Api(server.httpPort);
    authed = new Api(server.httpPort, 'tok-two');
  });
  after(async () => {
    await server.stop();
  });

  test('every route but GET /health needs the bearer token: 401 in the envelope', async () => {
    for (const [m, p] of [
      ['GET', '/queues'], ['POST', '/queues/q/jobs'], ['GET', '/queues/q/jobs'], ['GET', '/jobs/1'], ['GET', '/stats'],
      ['GET', '/metrics'], ['GET', '/metrics/prometheus'], ['GET', '/crons'], ['GET', '/workers'], ['GET', '/webhooks'],
      ['POST', '/webhooks/incoming/q'], ['GET', '/settings'], ['POST', '/server/shutdown'], ['POST', '/server/restart'],
      ['GET', '/cluster/nodes'], ['GET', '/nope'],
    ]) {
      const a = await anon.call(m!, p!, m === 'POST' ? { data: 1 } : undefined);
      assert.equal(a.status, 401, `${m} ${p}`);
      assert.deepEqual([a.ok, a.data], [false, null]);
      assert.match(a.error!, /^Authentication required/);
    }
    assert.equal((await anon.get('/health')).status, 200);
  });

  test('a wrong token is refused; a configured one works', async () => {
    assert.equal((await anon.get('/stats', { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await anon.get('/stats', { authorization: 'Basic dG9rLW9uZQ==' })).status, 401);
    assert.equal((await anon.get('/stats', { authorization: 'Bearer tok-one' })).status, 200);
    const pushed = await authed.post('/queues/q/jobs', { data: 1 });
    assert.equal(pushed.status, 200);
  });

  test('settings report auth on and the token count', async () => {
    const a = await authed.get('/settings');
    assert.equal(a.data.auth_enabled, true);
    assert.equal(a.data.auth_token_count, 2);
  });

  test('WebSocket: ?token= or the header; refused with 401 otherwise', async () => {
    await assert.rejects(WsSub.open(server.httpPort, '/ws'), (e: any) => e.status === 401);
    await assert.rejects(WsSub.open(server.httpPort, '/ws?token=wrong'), (e: any) => e.status === 401);
    const byQuery = await WsSub.open(server.httpPort, '/ws/q?token=tok-one');
    const byHeader = await WsSub.open(server.httpPort, '/ws', { authorization: 'Bearer tok-two' });
    const job = await authed.push('q', { data: 2 });
    await byQuery.waitFor((e) => e.job_id === job.id, 'event by query-token subscriber');
    await byHeader.waitFor((e) => e.job_id === job.id, 'event by header-token subscriber');
    byQuery.close();
    byHeader.close();
  });

  test('SSE: ?token= or the header; 401 envelope otherwise', async () => {
    const refused = await SseSub.open(server.httpPort, '/events');
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /Authentication required/);
    const ok = await SseSub.open(server.httpPort, '/events?token=tok-one');
    assert.equal(ok.status, 200);
    const ok2 = await SseSub.open(server.httpPort, '/events/q', { authorization: 'Bearer tok-one' });
    assert.equal(ok2.status, 200);
    const job = await authed.push('q', { data: 3 });
    await ok.waitFor((f) => f.data.job_id === job.id, 'event');
    await ok2.waitFor((f) => f.data.job_id === job.id, 'event');
    ok.close();
    ok2.close();
  });
});
