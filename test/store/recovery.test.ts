import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, waitFor, type RunningServer } from '../helpers/server.js';
import { connectWhenUp, type LineClient } from './line-client.js';
import { NO_PG, freshDatabase, query } from './pg.js';
import { durableServer, jobRow, queueOnShard } from './helpers.js';

type Job = { id: number; attempts: number };

// both runtime modes recover the same way: two worker shards, and the engine on the front thread
for (const shards of ['2', '0']) describe(`recovery (SHARDS=${shards})`, { skip: NO_PG }, () => {
  let url: string;
  let server: RunningServer | null = null;
  let c: LineClient | null = null;

  async function restart(signal: NodeJS.Signals): Promise<LineClient> {
    c?.destroy();
    const port = server!.port;
    await server!.stop(signal);
    server = await durableServer(url, { PORT: String(port), SHARDS: shards });
    return (c = await connectWhenUp(port));
  }

  before(async () => {
    url = await freshDatabase(`recovery${shards}`);
    server = await durableServer(url, { SHARDS: shards });
    c = await connectWhenUp(server.port);
  });

  after(async () => {
    c?.destroy();
    await server?.stop();
  });

  test('after a clean stop every job, queue setting and cron comes back as it was', async () => {
    const waiting = (await c!.ok({ cmd: 'PUSH', queue: 'keep', data: { k: 1 }, priority: 3, tags: ['t'] })).id as number;
    const delayed = (await c!.ok({ cmd: 'PUSH', queue: 'keep', data: 2, delay: 3_600_000 })).id as number;
    const done = (await c!.ok({ cmd: 'PUSH', queue: 'keep2', data: 3 })).id as number;
    await c!.ok({ cmd: 'PULL', queue: 'keep2', timeout: 0 });
    await c!.ok({ cmd: 'ACK', id: done, result: { r: 'x' } });
    await c!.ok({ cmd: 'PAUSE', queue: 'keep3' });
    await c!.ok({ cmd: 'RATELIMIT', queue: 'keep3', limit: 9 });
    await c!.ok({ cmd: 'CRON', name: 'yearly', queue: 'keep3', schedule: '0 0 0 1 1 *', data: { y: 1 } });
    const before = await c!.ok({ cmd: 'GETJOB', id: waiting });

    const cl = await restart('SIGTERM');
    assert.deepEqual(await cl.ok({ cmd: 'GETJOB', id: waiting }), before);
    assert.equal((await cl.ok({ cmd: 'GETSTATE', id: delayed })).state, 'delayed');
    assert.equal((await cl.ok({ cmd: 'GETSTATE', id: done })).state, 'completed');
    assert.deepEqual((await cl.ok({ cmd: 'GETRESULT', id: done })).result, { r: 'x' });
    const queues = (await cl.ok({ cmd: 'LISTQUEUES' })).queues as Array<{ name: string; paused: boolean; rate_limit: number | null }>;
    const k3 = queues.find((q) => q.name === 'keep3')!;
    assert.equal(k3.paused, true);
    assert.equal(k3.rate_limit, 9);
    const crons = (await cl.ok({ cmd: 'CRONLIST' })).crons as Array<{ name: string }>;
    assert.deepEqual(crons.map((x) => x.name), ['yearly']);
  });

  test('after kill -9 an active job counts as a lost lease, and that outcome is stored', async () => {
    const once = (await c!.ok({ cmd: 'PUSH', queue: 'lease', data: 1 })).id as number;
    const twice = (await c!.ok({ cmd: 'PUSH', queue: 'lease', data: 2, max_attempts: 3, backoff: 1 })).id as number;
    const a = await c!.ok({ cmd: 'PULLB', queue: 'lease', count: 2, timeout: 0 });
    assert.equal((a.jobs as Job[]).length, 2);
    const cl = await restart('SIGKILL');
    assert.equal((await cl.ok({ cmd: 'GETSTATE', id: once })).state, 'failed');
    const again = await cl.ok({ cmd: 'PULL', queue: 'lease', timeout: 5000 });
    assert.equal((again.job as Job).id, twice);
    assert.equal((again.job as Job).attempts, 2);
    assert.equal((await jobRow(url, once))!.state, 'failed');
    assert.equal((await jobRow(url, once))!.error, 'worker connection lost');
    assert.equal((await jobRow(url, once))!.progress_msg, 'worker connection lost');
  });

  test('the last error survives a restart as progress_msg: GETJOB, DLQ and the stored row', async () => {
    const q = 'lasterr';
    const dead = (await c!.ok({ cmd: 'PUSH', queue: q, data: 1 })).id as number;
    const retrying = (await c!.ok({ cmd: 'PUSH', queue: q, data: 2, max_attempts: 3, backoff: 3_600_000 })).id as number;
    await c!.ok({ cmd: 'PULLB', queue: q, count: 2, timeout: 0 });
    await c!.ok({ cmd: 'FAIL', id: dead, error: 'disk full' });
    await c!.ok({ cmd: 'FAIL', id: retrying, error: 'try later' });
    // a parent and its child on different shards: the cascade crosses engines
    const parent = (await c!.ok({ cmd: 'PUSH', queue: queueOnShard('lparent', 0), data: 3 })).id as number;
    const child = (await c!.ok({ cmd: 'PUSH', queue: queueOnShard('lchild', 1), data: 4, depends_on: [parent] })).id as number;
    await c!.ok({ cmd: 'PULL', queue: queueOnShard('lparent', 0), timeout: 0 });
    await c!.ok({ cmd: 'FAIL', id: parent, error: 'parent broke' });
    await waitFor(async () => ((await c!.ok({ cmd: 'GETSTATE', id: child })).state === 'failed' ? true : null), 5000, 'the child in the DLQ');
    const lost = (await c!.ok({ cmd: 'PUSH', queue: q, data: 5 })).id as number;
    assert.equal(((await c!.ok({ cmd: 'PULL', queue: q, timeout: 0 })).job as Job).id, lost);

    const cl = await restart('SIGKILL');
    const msg = async (id: number) => ((await cl.ok({ cmd: 'GETJOB', id })).job as { progress_msg: string | null }).progress_msg;
    assert.equal(await msg(dead), 'disk full');
    assert.equal(await msg(retrying), 'try later');
    assert.equal((await cl.ok({ cmd: 'GETSTATE', id: retrying })).state, 'delayed');
    assert.equal(await msg(parent), 'parent broke');
    assert.equal(await msg(child), `Dependency ${parent} failed`);
    assert.equal(await msg(lost), 'worker connection lost');
    const dlq = (await cl.ok({ cmd: 'DLQ', queue: q })).jobs as Array<{ id: number; progress_msg: string | null }>;
    assert.deepEqual(dlq.map((j) => [j.id, j.progress_msg]), [[dead, 'disk full'], [lost, 'worker connection lost']]);
    for (const [id, text] of [[dead, 'disk full'], [retrying, 'try later'], [child, `Dependency ${parent} failed`], [lost, 'worker connection lost']] as const) {
      assert.equal((await jobRow(url, id))!.progress_msg, text, `stored row of ${id}`);
    }
  });

  test('ids never collide after restarts, clean or not', async () => {
    const seen = new Set<number>();
    for (const signal of ['SIGTERM', 'SIGKILL', 'SIGKILL'] as const) {
      const ids = (await c!.ok({ cmd: 'PUSHB', queue: 'ids', jobs: [{ data: 1 }, { data: 2 }, { data: 3 }] })).ids as number[];
      // a cancelled newest job leaves no row behind: the sequence still must not hand its id out again
      await c!.ok({ cmd: 'CANCEL', id: ids[2]! });
      for (const id of ids) {
        assert.ok(!seen.has(id), `id ${id} reused`);
        seen.add(id);
      }
      await restart(signal);
    }
    const ids = (await c!.ok({ cmd: 'PUSHB', queue: 'ids', jobs: [{ data: 1 }] })).ids as number[];
    assert.ok(!seen.has(ids[0]!));
    assert.ok(ids[0]! > Math.max(...seen));
  });

  test('a cron whose run was missed while down fires once at start', async () => {
    await c!.ok({ cmd: 'CRON', name: 'missed', queue: 'missedq', schedule: '0 0 0 1 1 *', data: { m: 1 } });
    const port = server!.port;
    c!.destroy();
    await server!.stop('SIGTERM');
    // pretend three runs were missed: its next run was an hour ago
    await query(url, 'update flashq_crons set next_run = $1 where name = $2', [Date.now() - 3_600_000, 'missed']);
    server = await durableServer(url, { PORT: String(port) });
    c = await connectWhenUp(port);
    const j = await c.ok({ cmd: 'PULL', queue: 'missedq', timeout: 5000 });
    assert.deepEqual((j.job as { data: unknown }).data, { m: 1 });
    const more = await c.ok({ cmd: 'PULLB', queue: 'missedq', count: 10, timeout: 0 });
    assert.equal((more.jobs as Job[]).length, 0);
    const next = await query<{ next_run: number }>(url, 'select next_run from flashq_crons where name = $1', ['missed']);
    assert.ok(next[0]!.next_run > Date.now());
  });

  test('a child waiting on a parent of another shard is released after a restart', async () => {
    const pq = queueOnShard('rparent', 0);
    const cq = queueOnShard('rchild', 1);
    const parent = (await c!.ok({ cmd: 'PUSH', queue: pq, data: 1 })).id as number;
    const child = (await c!.ok({ cmd: 'PUSH', queue: cq, data: 2, depends_on: [parent] })).id as number;
    const cl = await restart('SIGKILL');
    assert.equal((await cl.ok({ cmd: 'GETSTATE', id: child })).state, 'waiting-children');
    await cl.ok({ cmd: 'PULL', queue: pq, timeout: 5000 });
    await cl.ok({ cmd: 'ACK', id: parent });
    const j = await cl.ok({ cmd: 'PULL', queue: cq, timeout: 5000 });
    assert.equal((j.job as Job).id, child);
  });
});

describe('webhooks and incoming webhook pushes', { skip: NO_PG }, () => {
  test('a webhook and a job pushed by an incoming webhook survive a restart', async () => {
    const url = await freshDatabase('webhooks_http');
    const httpPort = await freePort();
    let server = await durableServer(url, { HTTP_PORT: String(httpPort) });
    try {
      const base = `http://127.0.0.1:${httpPort}`;
      const created = (await (
        await fetch(`${base}/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['job.completed'], queue: 'emails', secret: 'k' }),
        })
      ).json()) as { ok: boolean; data: { id: string } };
      assert.equal(created.ok, true);
      const pushed = (await (
        await fetch(`${base}/webhooks/incoming/inbound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":"ext"}' })
      ).json()) as { ok: boolean; data: { id: number } };
      assert.equal(pushed.ok, true);
      assert.equal((await jobRow(url, pushed.data.id))!.state, 'waiting');
      await server.stop('SIGKILL');
      server = await durableServer(url, { HTTP_PORT: String(httpPort) });
      const hooks = (await (await fetch(`${base}/webhooks`)).json()) as { data: Array<{ id: string; url: string }> };
      assert.deepEqual(hooks.data.map((h) => [h.id, h.url]), [[created.data.id, 'http://127.0.0.1:9/hook']]);
      const job = (await (await fetch(`${base}/jobs/${pushed.data.id}`)).json()) as { data: { state: string; data: unknown } };
      assert.equal(job.data.state, 'waiting');
      assert.deepEqual(job.data.data, { from: 'ext' });
    } finally {
      await server.stop();
    }
  });
});
