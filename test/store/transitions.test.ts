import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, waitFor, type RunningServer } from '../helpers/server.js';
import type { LineClient } from './line-client.js';
import { NO_PG, freshDatabase, query } from './pg.js';
import { client, durableServer, jobRow, queueOnShard, waitForRow } from './helpers.js';

/**
 * With PERSIST=sync an ok answer means committed, so each test reads the table right after the
 * answer, without waiting: a row that lags behind its answer fails the test.
 */
for (const shards of SHARD_MODES) describe(`every state change is in PostgreSQL when its answer arrives (SHARDS=${shards})`, { skip: NO_PG }, () => {
  let url: string;
  let server: RunningServer;
  let c: LineClient;

  before(async () => {
    url = await freshDatabase(`transitions_${shards}`);
    server = await durableServer(url, { KEEP_COMPLETED: '6', SHARDS: shards });
    c = await client(server);
  });

  after(async () => {
    c?.close();
    await server?.stop();
  });

  test('PUSH stores every field of the job', async () => {
    const parent = (await c.ok({ cmd: 'PUSH', queue: 'fields', data: { p: 1 } })).id as number;
    const a = await c.ok({
      cmd: 'PUSH',
      queue: 'fields',
      data: { text: 'tab\there, back\\slash, "quote"' },
      priority: 7,
      delay: 60_000,
      ttl: 600_000,
      timeout: 30_000,
      max_attempts: 4,
      backoff: 250,
      unique_key: 'k-1',
      depends_on: [parent],
      tags: ['a', 'b"c'],
      lifo: true,
    });
    const r = (await jobRow(url, a.id as number))!;
    assert.equal(r.queue, 'fields');
    assert.equal(r.state, 'waiting-children');
    assert.deepEqual(JSON.parse(r.data), { text: 'tab\there, back\\slash, "quote"' });
    assert.equal(r.priority, 7);
    assert.equal(r.run_at - r.created_at, 60_000);
    assert.equal(r.ttl, 600_000);
    assert.equal(r.timeout, 30_000);
    assert.equal(r.max_attempts, 4);
    assert.equal(r.backoff, 250);
    assert.equal(r.unique_key, 'k-1');
    assert.deepEqual(r.depends_on, [parent]);
    assert.deepEqual(r.tags, ['a', 'b"c']);
    assert.equal(r.lifo, true);
    assert.equal(r.partition, (a.id as number) % 256);
  });

  test('PUSHB stores every job of the batch and advances the sequence', async () => {
    const ids = (await c.ok({ cmd: 'PUSHB', queue: 'batch', jobs: [{ data: 1 }, { data: 2, delay: 5000 }, { data: 3 }] })).ids as number[];
    const rows = await Promise.all(ids.map((id) => jobRow(url, id)));
    assert.deepEqual(rows.map((r) => r?.state), ['waiting', 'delayed', 'waiting']);
    const seq = await query<{ seq: number }>(url, 'select seq from flashq_sequences where partition = $1', [ids[2]! % 256]);
    assert.equal(seq[0]!.seq, (ids[2]! - (ids[2]! % 256)) / 256);
  });

  test('PULL, PROGRESS and ACK: active with attempts and start time, then progress, then completed with result', async () => {
    const id = (await c.ok({ cmd: 'PUSH', queue: 'work', data: { w: 1 } })).id as number;
    await c.ok({ cmd: 'PULL', queue: 'work', timeout: 0 });
    let r = (await jobRow(url, id))!;
    assert.equal(r.state, 'active');
    assert.equal(r.attempts, 1);
    assert.ok(r.started_at > 0);
    await c.ok({ cmd: 'PROGRESS', id, progress: 40, message: 'reading' });
    r = (await jobRow(url, id))!;
    assert.equal(r.progress, 40);
    assert.equal(r.progress_msg, 'reading');
    await c.ok({ cmd: 'ACK', id, result: { done: true } });
    r = (await jobRow(url, id))!;
    assert.equal(r.state, 'completed');
    assert.deepEqual(JSON.parse(r.result!), { done: true });
    assert.ok(r.finished_at >= r.created_at);
  });

  test('FAIL retries with back-off, then moves to the DLQ; RETRYDLQ gives a fresh start', async () => {
    const id = (await c.ok({ cmd: 'PUSH', queue: 'flaky', data: 1, max_attempts: 2, backoff: 1 })).id as number;
    await c.ok({ cmd: 'PULL', queue: 'flaky', timeout: 0 });
    await c.ok({ cmd: 'FAIL', id, error: 'first' });
    let r = (await jobRow(url, id))!;
    assert.ok(r.state === 'delayed' || r.state === 'waiting', r.state);
    assert.equal(r.error, 'first');
    assert.equal(r.attempts, 1);
    const again = await c.ok({ cmd: 'PULL', queue: 'flaky', timeout: 5000 });
    assert.equal((again.job as { id: number }).id, id);
    await c.ok({ cmd: 'FAIL', id, error: 'second' });
    r = (await jobRow(url, id))!;
    assert.equal(r.state, 'failed');
    assert.equal(r.error, 'second');
    assert.equal(r.attempts, 2);
    await c.ok({ cmd: 'RETRYDLQ', queue: 'flaky', id });
    r = (await jobRow(url, id))!;
    assert.equal(r.state, 'waiting');
    assert.equal(r.attempts, 0);
  });

  test('CANCEL deletes the row', async () => {
    const id = (await c.ok({ cmd: 'PUSH', queue: 'cancel', data: 1 })).id as number;
    assert.ok(await jobRow(url, id));
    await c.ok({ cmd: 'CANCEL', id });
    assert.equal(await jobRow(url, id), undefined);
  });

  test('a timed-out job and an expired job are stored failed with their error', async () => {
    const t = (await c.ok({ cmd: 'PUSH', queue: 'slow', data: 1, timeout: 50 })).id as number;
    await c.ok({ cmd: 'PULL', queue: 'slow', timeout: 0 });
    const r1 = await waitForRow(url, t, (r) => r?.state === 'failed', 'timeout stored');
    assert.equal(r1!.error, 'Job timed out');
    await c.ok({ cmd: 'PAUSE', queue: 'expiring' });
    const e = (await c.ok({ cmd: 'PUSH', queue: 'expiring', data: 1, ttl: 50 })).id as number;
    const r2 = await waitForRow(url, e, (r) => r?.state === 'failed', 'ttl expiry stored');
    assert.equal(r2!.error, 'TTL expired');
  });

  test('dependencies across shards: release on completion, failure cascades on DLQ', async () => {
    const pq = queueOnShard('parent', 0);
    const cq = queueOnShard('child', 1);
    const p1 = (await c.ok({ cmd: 'PUSH', queue: pq, data: 1 })).id as number;
    const p2 = (await c.ok({ cmd: 'PUSH', queue: pq, data: 2 })).id as number;
    const c1 = (await c.ok({ cmd: 'PUSH', queue: cq, data: 1, depends_on: [p1] })).id as number;
    const c2 = (await c.ok({ cmd: 'PUSH', queue: cq, data: 2, depends_on: [p2] })).id as number;
    assert.equal((await jobRow(url, c1))!.state, 'waiting-children');
    await c.ok({ cmd: 'PULL', queue: pq, timeout: 0 });
    await c.ok({ cmd: 'ACK', id: p1 });
    await waitForRow(url, c1, (r) => r?.state === 'waiting', 'child released');
    await c.ok({ cmd: 'PULL', queue: pq, timeout: 0 });
    await c.ok({ cmd: 'FAIL', id: p2, error: 'boom' });
    const r = await waitForRow(url, c2, (r) => r?.state === 'failed', 'child failed');
    assert.equal(r!.error, `Dependency ${p2} failed`);
  });

  test('queue settings are stored, and cleared settings remove the row', async () => {
    await c.ok({ cmd: 'PAUSE', queue: 'settings' });
    await c.ok({ cmd: 'RATELIMIT', queue: 'settings', limit: 50 });
    await c.ok({ cmd: 'SETCONCURRENCY', queue: 'settings', limit: 3 });
    let rows = await query(url, 'select paused, rate_limit, concurrency_limit from flashq_queues where name = $1', ['settings']);
    assert.deepEqual(rows[0], { paused: true, rate_limit: 50, concurrency_limit: 3 });
    await c.ok({ cmd: 'RESUME', queue: 'settings' });
    await c.ok({ cmd: 'RATELIMITCLEAR', queue: 'settings' });
    await c.ok({ cmd: 'CLEARCONCURRENCY', queue: 'settings' });
    rows = await query(url, 'select * from flashq_queues where name = $1', ['settings']);
    assert.equal(rows.length, 0);
  });

  test('crons are stored with their next run, which advances when they fire; CRONDELETE removes them', async () => {
    await c.ok({ cmd: 'CRON', name: 'tick', queue: 'cronq', schedule: '* * * * * *', data: { c: 1 } });
    const first = await query<{ next_run: number }>(url, 'select next_run from flashq_crons where name = $1', ['tick']);
    assert.equal(first.length, 1);
    await waitFor(async () => {
      const r = await query<{ next_run: number }>(url, 'select next_run from flashq_crons where name = $1', ['tick']);
      return r[0]!.next_run > first[0]!.next_run;
    }, 10_000, 'cron next run advanced');
    const pushed = await query(url, "select id from flashq_jobs where queue = 'cronq'");
    assert.ok(pushed.length >= 1);
    await c.ok({ cmd: 'CRONDELETE', name: 'tick' });
    assert.equal((await query(url, 'select * from flashq_crons where name = $1', ['tick'])).length, 0);
  });

  test('retention eviction deletes the oldest finished rows', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await c.ok({ cmd: 'PUSH', queue: 'retain', data: i })).id as number);
    for (let i = 0; i < 12; i++) {
      const j = await c.ok({ cmd: 'PULL', queue: 'retain', timeout: 0 });
      await c.ok({ cmd: 'ACK', id: (j.job as { id: number }).id });
    }
    // KEEP_COMPLETED 6 over 2 shards: this queue's shard keeps 3
    const left = await query<{ id: number }>(url, "select id from flashq_jobs where queue = 'retain' order by id");
    assert.ok(left.length <= 6, `kept ${left.length}`);
    assert.equal(await jobRow(url, ids[0]!), undefined);
    assert.ok(await jobRow(url, ids[11]!));
  });
});
