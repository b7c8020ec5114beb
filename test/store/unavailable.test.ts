import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { LineClient } from './line-client.js';
import { PrivatePostgres, query, withDatabase } from './pg.js';
import { durableServer } from './helpers.js';

const skip = PrivatePostgres.available() ? false : 'no PostgreSQL binaries';

/** What the server holds (STATS over every queue) against what the table holds. */
async function consistent(c: LineClient, url: string): Promise<void> {
  const s = await c.ok({ cmd: 'STATS' });
  const rows = await query<{ state: string; n: number }>(url, 'select state, count(*)::int as n from flashq_jobs group by state');
  const n = (st: string) => rows.find((r) => r.state === st)?.n ?? 0;
  assert.equal(s.queued, n('waiting'), 'waiting');
  assert.equal(s.processing, n('active'), 'active');
  assert.equal(s.delayed, n('delayed') + n('waiting-children'), 'delayed');
  assert.equal(s.dlq, n('failed'), 'failed');
}

describe('PostgreSQL unavailable at run time', { skip }, () => {
  let pg: PrivatePostgres;
  let url: string;
  let server: RunningServer;
  let c: LineClient;

  before(async () => {
    pg = await PrivatePostgres.create();
    url = withDatabase(pg.url, 'postgres');
    server = await durableServer(url, { SHARDS: '1', HTTP_PORT: String(await freePort()) });
    c = await LineClient.connect(server.port);
  });

  after(async () => {
    c?.destroy();
    await server?.stop();
    await pg?.destroy();
  });

  test('a commit that fails answers Storage unavailable, and the engine returns to the committed state by itself', async () => {
    const a = (await c.ok({ cmd: 'PUSH', queue: 'u', data: { a: 1 } })).id as number;
    await c.ok({ cmd: 'PULL', queue: 'u', timeout: 0 });
    await query(url, `alter table flashq_jobs add constraint no_poison check (data <> '"poison"')`);
    const bad = await c.send({ cmd: 'PUSHB', queue: 'u', jobs: [{ data: 'fine' }, { data: 'poison' }], reqId: 'r-7' });
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /^Storage unavailable/);
    assert.equal(bad.reqId, 'r-7', 'the error is encoded for its own request (reqId echoed)');
    await query(url, 'alter table flashq_jobs drop constraint no_poison');
    // back by itself: pushes succeed again once the engine was rebuilt from the database
    await waitFor(async () => (await c.send({ cmd: 'PUSH', queue: 'u2', data: 1 })).ok, 15_000, 'store back');
    const u = (await c.ok({ cmd: 'LISTQUEUES' })).queues as Array<{ name: string; pending: number }>;
    assert.equal(u.find((q) => q.name === 'u')?.pending ?? 0, 0, 'the refused batch left nothing in memory');
    // the lease of `a` did not survive the rebuild: it was failed back like a lost connection
    const st = (await c.ok({ cmd: 'GETSTATE', id: a })).state;
    const row = await query<{ state: string }>(url, 'select state from flashq_jobs where id = $1', [a]);
    assert.equal(st, row[0]!.state);
    await consistent(c, url);
  });

  test('while PostgreSQL is down, changes are refused and reads are served; it resumes when PostgreSQL is back', async () => {
    const kept = (await c.ok({ cmd: 'PUSH', queue: 'v', data: { v: 1 } })).id as number;
    const health = async () => ((await (await fetch(`http://127.0.0.1:${server.httpPort}/health`)).json()) as { data: { status: string; postgres_connected: boolean } }).data;
    assert.deepEqual(await health().then((h) => [h.status, h.postgres_connected]), ['healthy', true]);
    await pg.stop();
    const refused = await c.send({ cmd: 'PUSH', queue: 'v', data: 2 });
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /^Storage unavailable/);
    const again = await c.send({ cmd: 'ACK', id: kept });
    assert.match(again.error!, /^Storage unavailable/);
    assert.equal((await c.ok({ cmd: 'GETSTATE', id: kept })).state, 'waiting');
    await waitFor(async () => !(await health()).postgres_connected, 10_000, '/health to report the outage');
    assert.equal((await health()).status, 'degraded');
    await pg.start();
    await waitFor(async () => (await c.send({ cmd: 'PUSH', queue: 'v', data: 3 })).ok, 20_000, 'resumed after the outage');
    await waitFor(async () => (await health()).postgres_connected, 10_000, '/health to report the store back');
    const pulled = await c.ok({ cmd: 'PULLB', queue: 'v', count: 10, timeout: 0 });
    const data = (pulled.jobs as Array<{ data: unknown }>).map((j) => j.data);
    assert.deepEqual(data.slice(0, 1), [{ v: 1 }]);
    assert.ok(!data.includes(2), 'the refused push never happened');
    await consistent(c, url);
  });
});

describe('PostgreSQL that stops answering (connection open, no replies)', { skip }, () => {
  let pg: PrivatePostgres;
  let url: string;
  let server: RunningServer;
  let c: LineClient;

  before(async () => {
    pg = await PrivatePostgres.create();
    url = withDatabase(pg.url, 'postgres');
    server = await durableServer(url, { SHARDS: '1', STORE_TIMEOUT_MS: '1000' });
    c = await LineClient.connect(server.port);
  });

  after(async () => {
    pg?.thaw();
    c?.destroy();
    await server?.stop();
    await pg?.destroy();
  });

  test('a commit with no answer becomes Storage unavailable after STORE_TIMEOUT_MS, and the store resumes once PostgreSQL answers', { timeout: 60_000 }, async () => {
    const kept = (await c.ok({ cmd: 'PUSH', queue: 'h', data: 'kept' })).id as number;
    pg.freeze();
    try {
      const t0 = Date.now();
      const refused = await c.send({ cmd: 'PUSH', queue: 'h', data: 'refused' });
      assert.equal(refused.ok, false);
      assert.match(refused.error!, /^Storage unavailable/);
      assert.ok(Date.now() - t0 < 8000, `answered after ${Date.now() - t0} ms`);
      assert.equal((await c.ok({ cmd: 'GETSTATE', id: kept })).state, 'waiting', 'reads are served meanwhile');
      const again = await c.send({ cmd: 'PUSH', queue: 'h', data: 'refused too' });
      assert.match(again.error!, /^Storage unavailable/);
    } finally {
      pg.thaw();
    }
    await waitFor(async () => (await c.send({ cmd: 'PUSH', queue: 'h', data: 'after' })).ok, 30_000, 'resumed after the hang');
    const pulled = await c.ok({ cmd: 'PULLB', queue: 'h', count: 10, timeout: 0 });
    const data = (pulled.jobs as Array<{ data: unknown }>).map((j) => j.data);
    assert.equal(data[0], 'kept');
    assert.ok(!data.includes('refused') && !data.includes('refused too'), `refused pushes came back: ${JSON.stringify(data)}`);
    await consistent(c, url);
  });
});

describe('PostgreSQL unreachable at start', () => {
  test('the server exits non-zero with a clear message instead of running in memory', async () => {
    const port = await freePort();
    const url = `postgres://flashq:secret@127.0.0.1:${port}/flashq`;
    await assert.rejects(startServer({ DATABASE_URL: url, HTTP_PORT: '0', GRPC_PORT: '0' }, 20_000), (e: Error) => {
      assert.match(e.message, /exited with 1/);
      assert.match(e.message, /PostgreSQL at postgres:\/\/flashq:\*\*\*@127\.0\.0\.1:\d+\/flashq is not usable/);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  });
});
