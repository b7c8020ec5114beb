import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { Api, until } from './client.js';
import { Receiver } from '../helpers/webhook-receiver.js';

for (const shards of SHARD_MODES) describe(`webhooks (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let api: Api;
  const rx = new Receiver();
  before(async () => {
    await rx.start();
    server = await startServer({ SHARDS: shards });
    api = new Api(server.httpPort);
  });
  after(async () => {
    await server.stop();
    await rx.stop();
  });

  test('create, list with the secret masked, delete', async () => {
    const c = await api.post('/webhooks', { url: rx.url('/unused'), events: ['job.completed', 'job.failed'], queue: 'emails', secret: 'my-secret-key' });
    assert.equal(c.status, 200, c.raw);
    assert.equal(typeof c.data.id, 'string');
    assert.equal(c.data.secret, '****');
    const list = await api.get('/webhooks');
    const w = list.data.find((x: any) => x.id === c.data.id);
    assert.deepEqual([w.url, w.events, w.queue, w.secret], [rx.url('/unused'), ['job.completed', 'job.failed'], 'emails', '****']);
    assert.ok(!list.raw.includes('my-secret-key'), 'the secret never leaves the server');
    assert.equal((await api.del(`/webhooks/${c.data.id}`)).status, 200);
    assert.equal((await api.get('/webhooks')).data.find((x: any) => x.id === c.data.id), undefined);
    const again = await api.del(`/webhooks/${c.data.id}`);
    assert.equal(again.status, 404);
  });

  test('link-local and metadata targets, other schemes and bad fields are 400', async () => {
    for (const body of [
      { url: 'http://169.254.169.254/latest/meta-data', events: ['*'] },
      { url: 'http://0xA9FEA9FE/', events: ['*'] },
      { url: 'http://2852039166/', events: ['*'] },
      { url: 'http://0251.0376.0251.0376/', events: ['*'] },
      { url: 'http://100.100.100.200/', events: ['*'] },
      { url: 'http://[::ffff:169.254.169.254]/', events: ['*'] },
      { url: 'http://[fe80::1]/', events: ['*'] },
      { url: 'ftp://example.com/hook', events: ['*'] },
      { url: 'file:///etc/passwd', events: ['*'] },
      { url: 'not a url', events: ['*'] },
      { events: ['*'] },
      { url: rx.url('/x'), events: ['job.exploded'] },
      { url: rx.url('/x'), events: 'job.completed' },
      { url: rx.url('/x'), queue: 'bad name' },
      { url: rx.url('/x'), secret: 42 },
    ]) {
      const a = await api.post('/webhooks', body);
      assert.equal(a.status, 400, JSON.stringify(body));
      assert.equal(a.ok, false);
    }
    assert.equal((await api.post('/webhooks', '{"url":')).status, 400);
  });

  test('a matching event is delivered with the documented body and a verifiable signature', async () => {
    const hook = await api.post('/webhooks', { url: rx.url('/signed'), events: ['job.completed'], queue: 'wh-q', secret: 's3cret' });
    const job = await api.push('wh-q', { data: { email: 'a@b' } });
    await api.push('wh-other', { data: 1 });
    await api.get('/queues/wh-q/jobs');
    await api.post(`/jobs/${job.id}/ack`, { result: { sent: true } });
    const [got] = await until(() => (rx.on('/signed').length > 0 ? rx.on('/signed') : null), 5000, 'a delivery');
    const body = JSON.parse(got!.body.toString('utf8'));
    assert.deepEqual(Object.keys(body), ['event', 'queue', 'job_id', 'timestamp', 'data', 'error']);
    assert.deepEqual([body.event, body.queue, body.job_id, body.data, body.error], ['job.completed', 'wh-q', job.id, { sent: true }, null]);
    const expected = createHmac('sha256', 's3cret').update(got!.body).digest('hex');
    assert.equal(got!.headers['x-flashq-signature'], expected);
    assert.match(String(got!.headers['content-type']), /application\/json/);
    // pushed/started events and other queues did not match this webhook
    assert.equal(rx.on('/signed').length, 1);
    await api.del(`/webhooks/${hook.data.id}`);
  });

  test('"*" matches every event; no secret means no signature header', async () => {
    const hook = await api.post('/webhooks', { url: rx.url('/all'), events: ['*'] });
    const job = await api.push('wh-all', { data: 7 });
    await waitFor(() => rx.on('/all').some((r) => JSON.parse(r.body.toString()).job_id === job.id), 5000, 'job.pushed delivery');
    const r = rx.on('/all').find((x) => JSON.parse(x.body.toString()).job_id === job.id)!;
    assert.equal(JSON.parse(r.body.toString()).event, 'job.pushed');
    assert.deepEqual(JSON.parse(r.body.toString()).data, 7);
    assert.equal(r.headers['x-flashq-signature'], undefined);
    await api.del(`/webhooks/${hook.data.id}`);
  });

  test('a delivery that fails is retried', async () => {
    rx.failFirst = rx.got.length + 1;
    const hook = await api.post('/webhooks', { url: rx.url('/retry'), events: ['job.pushed'], queue: 'wh-retry', secret: 'k' });
    const job = await api.push('wh-retry', { data: 1 });
    const attempts = await until(() => (rx.on('/retry').length >= 2 ? rx.on('/retry') : null), 8000, 'a second attempt');
    assert.equal(attempts[0]!.body.toString(), attempts[1]!.body.toString(), 'the same body');
    assert.equal(JSON.parse(attempts[1]!.body.toString()).job_id, job.id);
    assert.equal(attempts[1]!.headers['x-flashq-signature'], createHmac('sha256', 'k').update(attempts[1]!.body).digest('hex'));
    rx.failFirst = 0;
    await api.del(`/webhooks/${hook.data.id}`);
  });

  test('POST /webhooks/incoming/{queue} pushes the body as the job data and answers the job', async () => {
    const a = await api.post('/webhooks/incoming/inbox', { any: 'data', from: 'external-service' });
    assert.equal(a.status, 200, a.raw);
    assert.equal(a.data.queue, 'inbox');
    assert.deepEqual(a.data.data, { any: 'data', from: 'external-service' });
    const pulled = await api.get('/queues/inbox/jobs');
    assert.deepEqual(pulled.data[0].data, { any: 'data', from: 'external-service' });
    const bad = await api.post('/webhooks/incoming/inbox', 'nope{');
    assert.equal(bad.status, 400);
    const empty = await api.post('/webhooks/incoming/inbox');
    assert.equal(empty.status, 400);
  });
});
