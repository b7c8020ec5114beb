/**
 * The published client entry: everything is imported by the package name through package.json
 * `exports` (a self-reference, as an application that installed flashq-ts would), and Queue's
 * methods run against a real server over TCP, a Unix socket and TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as entry from 'flashq-ts/client';
import { FlashqClient, FlashqClientError, Queue, type QueueOptions } from 'flashq-ts/client';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { makeCert, tlsTerminator, type Terminator } from '../helpers/tls.js';

describe('flashq-ts/client entry', () => {
  let server: RunningServer;
  let socketPath: string;
  const open: { close(): Promise<void> }[] = [];
  const queue = (name: string, o: QueueOptions = {}) => {
    const q = new Queue(name, { port: server.port, httpPort: server.httpPort, ...o });
    open.push(q);
    return q;
  };
  before(async () => {
    socketPath = join(mkdtempSync(join(tmpdir(), 'flashq-entry-')), 'flashq.sock');
    server = await startServer({ UNIX_SOCKET: socketPath });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await server.stop();
  });

  test('the entry exports the client, Queue, Worker, QueueEvents and the error classes', () => {
    for (const name of ['FlashqClient', 'Connection', 'Worker', 'Queue', 'QueueEvents', 'FlashqClientError', 'FlashqConnectionError', 'FlashqTimeoutError']) {
      assert.equal(typeof (entry as Record<string, unknown>)[name], 'function', name);
    }
  });

  test('add, addBulk and getJob return what the server holds', async () => {
    const q = queue('entry-add');
    const id = await q.add({ to: 'a' }, { priority: 5, tags: ['x'] });
    const ids = await q.addBulk(Array.from({ length: 2500 }, (_, i) => ({ data: { i } })), 1000);
    assert.equal(ids.length, 2500);
    assert.equal(new Set(ids).size, 2500);
    const { job, state } = await q.getJob(id);
    assert.equal(state, 'waiting');
    assert.deepEqual(job?.data, { to: 'a' });
    assert.equal(job?.priority, 5);
    assert.deepEqual(job?.tags, ['x']);
    assert.deepEqual((await q.getJob(ids[2499]!)).job?.data, { i: 2499 });
    assert.deepEqual(await q.counts(), { pending: 2501, active: 0, failed: 0, paused: false });
  });

  test('getJobs lists the queue newest first, by state, through the HTTP job browser', async () => {
    const q = queue('entry-browse');
    const a = await q.add({ n: 1 });
    const b = await q.add({ n: 2 }, { delay: 60_000 });
    const all = await q.getJobs();
    assert.deepEqual(all.map((j) => j.id), [b, a]);
    assert.deepEqual((await q.getJobs({ state: 'delayed' })).map((j) => [j.id, j.state]), [[b, 'delayed']]);
    assert.deepEqual((await q.getJobs({ state: 'waiting', limit: 1 })).map((j) => j.id), [a]);
  });

  test('pause stops deliveries and resume restarts them', async () => {
    const q = queue('entry-pause');
    await q.add({});
    await q.pause();
    assert.equal((await q.counts()).paused, true);
    await assert.rejects(q.client.pull('entry-pause', { timeout: 0 }), /Queue paused/);
    await q.resume();
    const job = await q.client.pull('entry-pause', { timeout: 1000 });
    assert.ok(job);
    await q.client.ack(job.id);
  });

  test('drain removes waiting and delayed jobs and leaves active ones', async () => {
    const q = queue('entry-drain');
    await q.addBulk(Array.from({ length: 1500 }, () => ({ data: {} })));
    await q.add({}, { delay: 60_000 });
    const active = await q.client.pull('entry-drain', { timeout: 1000 });
    assert.ok(active);
    assert.equal(await q.drain(), 1500);
    assert.deepEqual(await q.counts(), { pending: 0, active: 1, failed: 0, paused: false });
    await q.client.ack(active.id);
  });

  test('clean removes only jobs older than the grace period, up to the limit', async () => {
    const q = queue('entry-clean');
    const old = await q.addBulk([{ data: 1 }, { data: 2 }, { data: 3 }]);
    await waitFor(async () => (await q.getJobs()).every((j) => Date.now() - j.created_at > 50), 2000, 'jobs older than 50 ms');
    const fresh = await q.add(4);
    const removed = await q.clean(50, 2);
    assert.equal(removed.length, 2);
    assert.ok(removed.every((id) => old.includes(id)));
    const left = (await q.getJobs()).map((j) => j.id).sort((x, y) => x - y);
    assert.deepEqual(left, [...old.filter((id) => !removed.includes(id)), fresh].sort((x, y) => x - y));
    await assert.rejects(q.clean(0, 10, 'completed' as 'waiting'), (e: Error) => e instanceof FlashqClientError && /cannot clean completed/.test(e.message));
  });

  test('the DLQ: getDlq lists failed jobs and retryDlq sends them back', async () => {
    const q = queue('entry-dlq');
    const id = await q.add({ bad: true });
    const job = await q.client.pull('entry-dlq', { timeout: 1000 });
    assert.equal(job?.id, id);
    await q.client.fail(id, 'broken');
    assert.deepEqual((await q.getDlq()).map((j) => j.id), [id]);
    assert.equal((await q.counts()).failed, 1);
    assert.equal(await q.retryDlq(), 1);
    assert.equal((await q.getJob(id)).state, 'waiting');
    assert.equal(await q.retryDlq(id), 0);
  });

  test('a Queue over the Unix socket and one over TCP see the same queue', async () => {
    const viaSocket = queue('entry-unix', { path: socketPath });
    const id = await viaSocket.add({ over: 'unix' });
    assert.deepEqual((await queue('entry-unix').getJob(id)).job?.data, { over: 'unix' });
  });

  describe('over TLS', () => {
    let term: Terminator;
    const cert = makeCert();
    before(async () => {
      term = await tlsTerminator(cert, server.port);
    });
    after(() => term.close());

    test('a client verifying the server with its CA pushes and pulls through a real TLS session', async () => {
      const c = new FlashqClient({ host: '127.0.0.1', port: term.port, tls: { ca: cert.cert } });
      open.push(c);
      await c.connect();
      const id = await c.push('entry-tls', { secret: 1 });
      const job = await c.pull('entry-tls', { timeout: 1000 });
      assert.equal(job?.id, id);
      await c.ack(job!.id);
      assert.equal(await c.getState(id), 'completed');
      assert.ok(term.accepted >= 1);
    });

    test('a server certificate the client does not trust fails the connect', async () => {
      const other = makeCert();
      const c = new FlashqClient({ port: term.port, tls: { ca: other.cert }, reconnect: false });
      await assert.rejects(c.connect(), /cannot connect|self[- ]signed|certificate/i);
      await c.close();
    });

    test('rejectUnauthorized:false accepts it (the CLI\'s --insecure)', async () => {
      const c = new FlashqClient({ port: term.port, tls: { rejectUnauthorized: false } });
      open.push(c);
      await c.connect();
      assert.equal(typeof (await c.stats()).queued, 'number');
    });
  });
});
