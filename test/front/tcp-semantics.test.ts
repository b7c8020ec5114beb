import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partitionOf } from '../../src/engine/partition.js';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';

/** Two queue names that live on different shards of a 2-shard server. */
function queuesOnBothShards(prefix: string): [string, string] {
  let a: string | null = null;
  let b: string | null = null;
  for (let i = 0; a === null || b === null; i++) {
    const name = `${prefix}-${i}`;
    if (partitionOf(name) % 2 === 0) a ??= name;
    else b ??= name;
  }
  return [a, b];
}

for (const shards of SHARD_MODES) describe(`compat.md job semantics through the wire (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let c: WireClient;
  before(async () => {
    server = await startServer({ SHARDS: shards });
    c = await WireClient.open(server.port);
  });
  after(async () => {
    await c.close();
    await server.stop();
  });

  it('higher priority first, FIFO within a priority, lifo jobs ahead of their priority', async () => {
    const q = 'order';
    const push = async (data: number, extra: object = {}) => (await c.call({ cmd: 'PUSH', queue: q, data, ...extra })).id as number;
    await push(1);
    await push(2);
    await push(3, { priority: 5 });
    await push(4, { lifo: true });
    await push(5, { lifo: true });
    const got = await c.call({ cmd: 'PULLB', queue: q, count: 10 });
    assert.deepEqual(got.jobs.map((j: { data: number }) => j.data), [3, 5, 4, 1, 2]);
  });

  it('a delayed high-priority job does not block a ready low-priority one', async () => {
    const q = 'delay-prio';
    const hi = await c.call({ cmd: 'PUSH', queue: q, data: 'hi', priority: 100, delay: 300 });
    await c.call({ cmd: 'PUSH', queue: q, data: 'lo', priority: 0 });
    assert.equal((await c.call({ cmd: 'PULL', queue: q, timeout: 0 })).job.data, 'lo');
    assert.equal((await c.call({ cmd: 'GETSTATE', id: hi.id })).state, 'delayed');
    const later = await c.call({ cmd: 'PULL', queue: q, timeout: 3000 });
    assert.equal(later.job.data, 'hi');
    assert.ok(later.job.started_at >= later.job.run_at);
  });

  it('FAIL retries with exponential back-off, then moves to the DLQ', async () => {
    const q = 'retry';
    const { id } = await c.call({ cmd: 'PUSH', queue: q, data: 1, max_attempts: 2, backoff: 50 });
    await c.call({ cmd: 'PULL', queue: q });
    await c.call({ cmd: 'FAIL', id, error: 'first' });
    const st = await c.call({ cmd: 'GETJOB', id });
    assert.equal(st.state, 'delayed');
    assert.ok(st.job.run_at - Date.now() <= 50);
    const second = await c.call({ cmd: 'PULL', queue: q, timeout: 3000 });
    assert.equal(second.job.attempts, 2);
    await c.call({ cmd: 'FAIL', id, error: 'second' });
    assert.equal((await c.call({ cmd: 'GETSTATE', id })).state, 'failed');
    assert.equal((await c.call({ cmd: 'DLQ', queue: q })).jobs[0].id, id);
  });

  it('ttl expiry sends an undelivered job to the DLQ', async () => {
    const q = 'ttl';
    const { id } = await c.call({ cmd: 'PUSH', queue: q, data: 1, ttl: 50, delay: 100 });
    await waitFor(async () => (await c.call({ cmd: 'GETSTATE', id })).state === 'failed', 3000, 'ttl expiry');
    assert.deepEqual((await c.call({ cmd: 'PULL', queue: q, timeout: 0 })), { ok: true, job: null });
  });

  it('an active job past its timeout fails; a late ACK answers not found', async () => {
    const q = 'timeout';
    const { id } = await c.call({ cmd: 'PUSH', queue: q, data: 1, timeout: 50 });
    await c.call({ cmd: 'PULL', queue: q });
    await waitFor(async () => (await c.call({ cmd: 'GETSTATE', id })).state === 'failed', 3000, 'timeout');
    assert.equal((await c.call({ cmd: 'ACK', id })).error, `Job ${id} not found`);
  });

  it('unique_key refuses duplicates while live and is released on completion', async () => {
    const q = 'uniq';
    const { id } = await c.call({ cmd: 'PUSH', queue: q, data: 1, unique_key: 'k1' });
    assert.equal((await c.call({ cmd: 'PUSH', queue: q, data: 2, unique_key: 'k1' })).error, 'Duplicate job: key k1');
    const batch = await c.call({ cmd: 'PUSHB', queue: q, jobs: [{ data: 3 }, { data: 4, unique_key: 'k1' }] });
    assert.equal(batch.ok, false, 'the batch is refused whole');
    assert.equal((await c.call({ cmd: 'STATS' })).ok, true);
    const lq = (await c.call({ cmd: 'LISTQUEUES' })).queues.find((x: { name: string }) => x.name === q);
    assert.equal(lq.pending, 1, 'nothing of the refused batch was applied');
    await c.call({ cmd: 'PULL', queue: q });
    await c.call({ cmd: 'ACK', id });
    assert.equal((await c.call({ cmd: 'PUSH', queue: q, data: 5, unique_key: 'k1' })).ok, true);
  });

  it('concurrency limit holds back deliveries until a slot is freed', async () => {
    const q = 'conc';
    await c.call({ cmd: 'SETCONCURRENCY', queue: q, limit: 1 });
    await c.call({ cmd: 'PUSHB', queue: q, jobs: [{ data: 1 }, { data: 2 }] });
    const first = await c.call({ cmd: 'PULL', queue: q });
    assert.deepEqual(await c.call({ cmd: 'PULL', queue: q, timeout: 0 }), { ok: true, job: null });
    const w = await WireClient.open(server.port);
    w.write({ cmd: 'PULL', queue: q, timeout: 3000 });
    await c.call({ cmd: 'ACK', id: first.job.id });
    assert.equal((await w.next()).job.data, 2, 'the freed slot wakes the waiting pull');
    await w.close();
  });

  it('rate limit refuses with timeout 0 and refills over time', async () => {
    const q = 'rate';
    await c.call({ cmd: 'RATELIMIT', queue: q, limit: 2 });
    await c.call({ cmd: 'PUSHB', queue: q, jobs: [{ data: 1 }, { data: 2 }, { data: 3 }] });
    assert.equal((await c.call({ cmd: 'PULLB', queue: q, count: 3 })).jobs.length, 2);
    assert.equal((await c.call({ cmd: 'PULL', queue: q, timeout: 0 })).error, 'Rate limited');
    const later = await c.call({ cmd: 'PULL', queue: q, timeout: 3000 });
    assert.equal(later.job.data, 3);
  });

  it('depends_on across shards: the child waits, then runs when the parent completes', async () => {
    const [qa, qb] = queuesOnBothShards('dep');
    const parent = await c.call({ cmd: 'PUSH', queue: qa, data: 'parent' });
    const child = await c.call({ cmd: 'PUSH', queue: qb, data: 'child', depends_on: [parent.id] });
    assert.equal(child.ok, true);
    assert.equal((await c.call({ cmd: 'GETSTATE', id: child.id })).state, 'waiting-children');
    assert.deepEqual(await c.call({ cmd: 'PULL', queue: qb, timeout: 0 }), { ok: true, job: null });
    await c.call({ cmd: 'PULL', queue: qa });
    await c.call({ cmd: 'ACK', id: parent.id });
    const got = await c.call({ cmd: 'PULL', queue: qb, timeout: 3000 });
    assert.equal(got.job.id, child.id);
  });

  it('depends_on an unknown id is refused; a failed parent fails its children (cascading, across shards)', async () => {
    const [qa, qb] = queuesOnBothShards('cascade');
    const unknown = await c.call({ cmd: 'PUSH', queue: qb, data: 1, depends_on: [987_654_321 * 256 + 1] });
    assert.match(unknown.error, /^Job \d+ not found$/);
    const parent = await c.call({ cmd: 'PUSH', queue: qa, data: 'p' });
    const child = await c.call({ cmd: 'PUSH', queue: qb, data: 'c', depends_on: [parent.id] });
    const grandchild = await c.call({ cmd: 'PUSH', queue: qa, data: 'g', depends_on: [child.id] });
    await c.call({ cmd: 'PULL', queue: qa });
    await c.call({ cmd: 'FAIL', id: parent.id, error: 'broken' });
    await waitFor(async () => (await c.call({ cmd: 'GETSTATE', id: grandchild.id })).state === 'failed', 3000, 'cascade');
    const dlq = await c.call({ cmd: 'DLQ', queue: qb });
    assert.equal(dlq.jobs[0].id, child.id);
    assert.equal((await c.call({ cmd: 'GETSTATE', id: child.id })).state, 'failed');
  });

  it('ACKB across shards acks every id and answers the total', async () => {
    const [qa, qb] = queuesOnBothShards('ackb');
    await c.call({ cmd: 'PUSHB', queue: qa, jobs: [{ data: 1 }, { data: 2 }] });
    await c.call({ cmd: 'PUSHB', queue: qb, jobs: [{ data: 3 }] });
    const a = await c.call({ cmd: 'PULLB', queue: qa, count: 10 });
    const b = await c.call({ cmd: 'PULLB', queue: qb, count: 10 });
    const ids = [...a.jobs, ...b.jobs].map((j: { id: number }) => j.id);
    assert.deepEqual(await c.call({ cmd: 'ACKB', ids, reqId: 9 }), { ok: true, reqId: 9, ids: [3] });
    for (const id of ids) assert.equal((await c.call({ cmd: 'GETSTATE', id })).state, 'completed');
  });

  it('ACKB over the batch limit is refused whole, even when its ids span shards', async () => {
    const [qa, qb] = queuesOnBothShards('ackb-limit');
    const a = await c.call({ cmd: 'PUSHB', queue: qa, jobs: Array.from({ length: 600 }, (_, i) => ({ data: i })) });
    const b = await c.call({ cmd: 'PUSHB', queue: qb, jobs: Array.from({ length: 600 }, (_, i) => ({ data: i })) });
    await c.call({ cmd: 'PULLB', queue: qa, count: 1000 });
    await c.call({ cmd: 'PULLB', queue: qb, count: 1000 });
    const refused = await c.call({ cmd: 'ACKB', ids: [...a.ids, ...b.ids] });
    assert.equal(refused.ok, false);
    assert.match(refused.error, /^Batch too large/);
    assert.equal((await c.call({ cmd: 'GETSTATE', id: a.ids[0] })).state, 'active', 'nothing was acked');
  });

  it('a connection that closes with a job leased fails it back with progress_msg "worker connection lost"', async () => {
    const q = 'lease-lost-msg';
    const worker = await WireClient.open(server.port);
    const { id } = await worker.call({ cmd: 'PUSH', queue: q, data: 1 });
    assert.equal((await worker.call({ cmd: 'PULL', queue: q })).job.id, id);
    await worker.close();
    const job = await waitFor(async () => {
      const a = await c.call({ cmd: 'GETJOB', id });
      return a.state === 'failed' ? a.job : null;
    }, 5000, 'the leased job failed back');
    assert.equal(job.progress_msg, 'worker connection lost');
    const dlq = await c.call({ cmd: 'DLQ', queue: q });
    assert.deepEqual(dlq.jobs.map((j: { id: number; progress_msg: string }) => [j.id, j.progress_msg]), [[id, 'worker connection lost']]);
  });

  it('a due cron pushes its job through the normal path', async () => {
    const q = 'cron-fires';
    await c.call({ cmd: 'CRON', name: 'every-second', queue: q, data: { tick: true }, schedule: '* * * * * *', priority: 3 });
    const got = await c.call({ cmd: 'PULL', queue: q, timeout: 3000 });
    assert.deepEqual(got.job.data, { tick: true });
    assert.equal(got.job.priority, 3);
    await c.call({ cmd: 'CRONDELETE', name: 'every-second' });
  });

  it('an interval cron (*/1) fires every second from its creation', async () => {
    const q = 'cron-interval';
    const created = Date.now();
    await c.call({ cmd: 'CRON', name: 'interval-1s', queue: q, data: { every: 1 }, schedule: '*/1' });
    const first = await c.call({ cmd: 'PULL', queue: q, timeout: 5000 });
    assert.deepEqual(first.job.data, { every: 1 });
    assert.ok(first.job.created_at >= created + 1000, `first run ${first.job.created_at - created} ms after creation`);
    const second = await c.call({ cmd: 'PULL', queue: q, timeout: 5000 });
    assert.ok(second.job.created_at >= first.job.created_at + 1000, 'one second apart at least');
    await c.call({ cmd: 'CRONDELETE', name: 'interval-1s' });
  });
});
