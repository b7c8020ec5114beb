import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor } from '../helpers/server.js';
import { Api, WsSub } from './client.js';

describe('server management over HTTP', () => {
  test('POST /server/restart answers, then serves again on the same ports in the same process', async () => {
    const s = await startServer();
    try {
      const api = new Api(s.httpPort);
      const hook = await api.post('/webhooks', { url: 'http://127.0.0.1:9/x', events: ['job.failed'] });
      const sub = await WsSub.open(s.httpPort, '/ws');
      const a = await api.post('/server/restart');
      assert.equal(a.status, 200);
      assert.equal(a.ok, true);
      await waitFor(() => sub.closed !== null, 5000, 'subscribers closed by the stop');
      await waitFor(async () => (await api.get('/health').catch(() => null))?.status === 200 && s.output().split('"msg":"listening"').length >= 3, 10_000, 'serving again');
      assert.equal(s.proc.exitCode, null, 'same process');
      const pushed = await api.post('/queues/after-restart/jobs', { data: 1 });
      assert.equal(pushed.status, 200);
      // the front's own state (webhooks) lives across the restart
      assert.ok((await api.get('/webhooks')).data.some((w: any) => w.id === hook.data.id));
      // and events still flow to new subscribers (the shards are new: events were switched on again)
      const sub2 = await WsSub.open(s.httpPort, '/ws');
      const j = await api.push('after-restart', { data: 2 });
      await sub2.waitFor((e) => e.job_id === j.id, 'an event after the restart');
      sub2.close();
    } finally {
      await s.stop();
    }
  });

  test('POST /server/shutdown answers, then the process exits 0', async () => {
    const s = await startServer();
    const api = new Api(s.httpPort);
    await api.push('q', { data: 1 });
    const a = await api.post('/server/shutdown');
    assert.equal(a.status, 200);
    assert.equal(a.ok, true);
    const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
    assert.equal(code, 0);
  });

  test('GET /settings masks the database password', async () => {
    const { maskDatabaseUrl } = await import('../../src/front/http/routes-server.js');
    assert.equal(maskDatabaseUrl('postgres://user:secret@localhost/flashq'), 'postgres://user:****@localhost/flashq');
    assert.equal(maskDatabaseUrl('postgres://user:p@ss/w@db:5432/flashq'), 'postgres://user:****@db:5432/flashq');
    assert.equal(maskDatabaseUrl('postgres://localhost/flashq?user=u&password=pw'), 'postgres://localhost/flashq?user=u&password=****');
    assert.equal(maskDatabaseUrl('postgres://user@localhost/flashq'), 'postgres://user@localhost/flashq');
  });
});
