import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, FlashqClient, FlashqClientError, FlashqConnectionError, FlashqTimeoutError } from '../../src/client/index.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

function increasing(ids: number[]): boolean {
  for (let i = 1; i < ids.length; i++) if (!(ids[i]! > ids[i - 1]!)) return false;
  return true;
}

describe('one pipelined connection', () => {
  let server: RunningServer;
  // closed even when a test fails half-way, so the server can stop
  const opened: { close(): Promise<void> }[] = [];
  const track = <C extends { close(): Promise<void> }>(c: C): C => (opened.push(c), c);
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await server.stop();
  });

  test('10,000 pushes issued at once on one connection get their own ids, in push order', async () => {
    const client = track(new FlashqClient({ port: server.port }));
    await client.connect();
    const ids = await Promise.all(Array.from({ length: 10_000 }, (_, i) => client.push('pipe', { i })));
    assert.equal(new Set(ids).size, 10_000);
    assert.ok(increasing(ids), 'ids follow push order');
    const first = await client.pull<{ i: number }>('pipe', { timeout: 0 });
    assert.deepEqual(first?.data, { i: 0 });
    assert.equal(first?.id, ids[0]);
    await client.close();
  });

  test('beyond maxInFlight, requests wait locally and are still answered in order', async () => {
    const client = track(new FlashqClient({ port: server.port, maxInFlight: 8 }));
    await client.connect();
    let most = 0;
    const calls = Array.from({ length: 500 }, (_, i) => {
      const p = client.push('bounded', { i });
      most = Math.max(most, client.connection.pending);
      return p;
    });
    const ids = await Promise.all(calls);
    assert.ok(most <= 8, `at most 8 in flight, saw ${most}`);
    assert.ok(increasing(ids));
    await client.close();
  });

  test('with reqIds, answers carry the request tag and each call gets its own answer', async () => {
    const client = track(new FlashqClient({ port: server.port, reqIds: true }));
    await client.connect();
    const raw = await client.send({ cmd: 'STATS' });
    assert.equal(raw.ok, true);
    assert.equal(typeof raw.reqId, 'number');
    const ids = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.push('tagged', { i })));
    assert.ok(increasing(ids));
    const [stats, state, bad] = await Promise.allSettled([client.stats(), client.getState(ids[5]!), client.send({ cmd: 'NOPE' })]);
    assert.equal(stats.status, 'fulfilled');
    assert.equal(state.status === 'fulfilled' && state.value, 'waiting');
    assert.equal(bad.status === 'fulfilled' && bad.value.ok, false);
    await client.close();
  });

  test('MessagePack framing carries the same commands and answers as JSON', async () => {
    const client = track(new FlashqClient({ port: server.port, framing: 'msgpack' }));
    await client.connect();
    const data = { text: 'héllo — 😀', nested: { list: [1, 2.5, null, true], big: 2 ** 40 } };
    const id = await client.push('packed', data, { priority: 3, tags: ['t'] });
    const ids = await client.pushBatch('packed', [{ data: { n: 1 } }, { data: { n: 2 }, priority: 1 }]);
    assert.equal(ids.length, 2);
    const job = await client.pull('packed', { timeout: 0 });
    assert.equal(job?.id, id);
    assert.deepEqual(job?.data, data);
    assert.deepEqual(job?.tags, ['t']);
    await client.ack(id, { done: true });
    assert.deepEqual(await client.getResult(id), { done: true });
    await assert.rejects(client.ack(id), (e: unknown) => e instanceof FlashqClientError && /not found/.test(e.message));
    await client.close();
  });

  test('a timed-out request keeps its slot: the next request gets its own answer', async () => {
    const conn = track(new Connection({ port: server.port }));
    await conn.connect();
    const slow = conn.request({ cmd: 'PULL', queue: 'slow-empty', timeout: 400 }, { timeoutMs: 50 });
    const next = conn.request({ cmd: 'PUSH', queue: 'after-slow', data: {} });
    const t0 = Date.now();
    await assert.rejects(slow, (e: unknown) => e instanceof FlashqTimeoutError && e.maybeApplied);
    assert.ok(Date.now() - t0 < 300, 'rejected at its own timeout, not at the server answer');
    const answer = await next;
    assert.equal(answer.ok, true);
    assert.equal(typeof answer.id, 'number', 'the PUSH got the PUSH answer, not the late PULL one');
    const stats = await conn.request({ cmd: 'STATS' });
    assert.equal(typeof stats.queued, 'number');
    await conn.close();
  });

  test('with reqIds, a timed-out request is dropped when its late answer arrives', async () => {
    const conn = track(new Connection({ port: server.port, reqIds: true }));
    await conn.connect();
    const slow = conn.request({ cmd: 'PULL', queue: 'slow-tagged', timeout: 300 }, { timeoutMs: 50 });
    const next = conn.request({ cmd: 'PUSH', queue: 'after-slow-tagged', data: {} });
    await assert.rejects(slow, FlashqTimeoutError);
    const answer = await next;
    assert.equal(typeof answer.id, 'number');
    await waitFor(() => conn.pending === 0, 2000, 'the late answer to be consumed');
    assert.equal(typeof (await conn.request({ cmd: 'STATS' })).queued, 'number');
    await conn.close();
  });

  test('a server refusal rejects with FlashqClientError carrying the server text', async () => {
    const client = track(new FlashqClient({ port: server.port }));
    await client.connect();
    await assert.rejects(client.push('bad queue name!', {}), (e: unknown) => e instanceof FlashqClientError && e.message.startsWith('Invalid queue name') && e.command === 'PUSH');
    assert.deepEqual(await client.getJob(999_999_999), { job: null, state: 'unknown' });
    assert.equal(await client.getState(999_999_999), 'unknown');
    await client.close();
  });

  test('requests after close() reject, and close() lets issued requests finish', async () => {
    const client = track(new FlashqClient({ port: server.port }));
    await client.connect();
    const pending = client.push('closing', { x: 1 });
    const closed = client.close();
    assert.equal(typeof (await pending), 'number');
    await closed;
    await assert.rejects(client.stats(), (e: unknown) => e instanceof FlashqConnectionError && e.code === 'CLOSED');
  });

  test('connecting to a port nobody listens on rejects', async () => {
    const client = new FlashqClient({ port: 1 });
    await assert.rejects(client.connect(), (e: unknown) => e instanceof FlashqConnectionError && e.code === 'CONNECT_FAILED');
  });
});

describe('reconnect', () => {
  test('after the server dies and a new one starts on the same port, in-flight requests reject and new ones go through', async () => {
    const first = await startServer();
    const port = first.port;
    const client = new FlashqClient({ port, reconnectInitialMs: 50, reconnectMaxMs: 200 });
    let second: RunningServer | undefined;
    try {
      await client.connect();
      assert.equal(typeof (await client.push('re', { n: 1 })), 'number');
      // settled into a value at once: the rejection lands while stop() still waits for the exit
      const inFlight = client.pull('re-empty').then(
        (job) => job,
        (e: unknown) => e,
      );
      await waitFor(() => client.connection.pending === 1, 2000, 'the PULL to be in flight');
      // a crash, not a graceful stop: a graceful one would answer the waiting PULL first
      await first.stop('SIGKILL');
      const lost = await inFlight;
      assert.ok(lost instanceof FlashqConnectionError && lost.code === 'CONNECTION_LOST' && lost.maybeApplied, String(lost));
      const whileDown = client.push('re', { n: 2 });
      await waitFor(() => client.connection.state === 'reconnecting', 2000, 'reconnecting');
      second = await startServer({ PORT: String(port) });
      assert.equal(typeof (await whileDown), 'number');
      assert.equal(client.connection.state, 'open');
      assert.equal((await client.stats()).queued, 1);
    } finally {
      await client.close();
      await first.stop();
      await second?.stop();
    }
  });

  test('AUTH is sent again after a reconnect, for a configured token and for auth()', async () => {
    const env = { AUTH_TOKENS: 'alpha,beta' };
    const first = await startServer(env);
    const port = first.port;
    const configured = new FlashqClient({ port, token: 'alpha', reconnectInitialMs: 50 });
    const later = new FlashqClient({ port, reconnectInitialMs: 50 });
    let second: RunningServer | undefined;
    try {
      await configured.connect();
      await later.connect();
      await assert.rejects(later.stats(), (e: unknown) => e instanceof FlashqClientError && e.message.startsWith('Authentication required'));
      await later.auth('beta');
      await configured.stats();
      await later.stats();
      await first.stop('SIGKILL');
      second = await startServer({ ...env, PORT: String(port) });
      await waitFor(() => configured.connection.state === 'open' && later.connection.state === 'open', 5000, 'both reconnected');
      assert.equal(typeof (await configured.push('authed', {})), 'number');
      assert.equal(typeof (await later.push('authed', {})), 'number');
    } finally {
      await configured.close();
      await later.close();
      await first.stop();
      await second?.stop();
    }
  });

  test('a wrong token makes connect() reject with the server text', async () => {
    const server = await startServer({ AUTH_TOKENS: 'alpha' });
    try {
      const client = new FlashqClient({ port: server.port, token: 'wrong' });
      await assert.rejects(client.connect(), (e: unknown) => e instanceof FlashqClientError && e.message.startsWith('Authentication required'));
      await client.close();
    } finally {
      await server.stop();
    }
  });
});

describe('unix socket', () => {
  test('the client talks over a Unix socket path', async () => {
    const path = join(tmpdir(), `flashq-client-${process.pid}.sock`);
    const server = await startServer({ UNIX_SOCKET: path });
    try {
      const client = new FlashqClient({ path });
      await client.connect();
      const id = await client.push('unix', { via: 'socket' });
      assert.equal(await client.getState(id), 'waiting');
      await client.close();
    } finally {
      await server.stop();
    }
  });
});
