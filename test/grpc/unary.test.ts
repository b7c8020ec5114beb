import { describe, after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, type RunningServer } from '../helpers/server.js';
import { failure, FlashqGrpc, grpc, json, parse, type Raw } from './client.js';

for (const shards of SHARD_MODES) describe(`gRPC unary calls (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let c: FlashqGrpc;

  before(async () => {
    // with two shards, ids of different queues live on different shards
    server = await startServer({ HTTP_PORT: '0', SHARDS: shards });
    c = new FlashqGrpc(server.grpcPort);
  });

  after(async () => {
    c.close();
    await server.stop();
  });

  const state = async (id: number): Promise<string> => (await c.call('getState', { id })).state;

  test('Push answers the new id; the job waits with its options', async () => {
    const r = await c.call('push', { queue: 'u-push', data: json({ email: 'a@b.c' }), priority: 10, maxAttempts: 3 });
    assert.equal(r.ok, true);
    assert.ok(r.id > 0);
    assert.deepEqual(await c.call('getState', { id: r.id }), { id: r.id, state: 'JOB_STATE_WAITING' });
    const job = await c.call('pull', { queue: 'u-push' });
    assert.equal(job.id, r.id);
    assert.equal(job.queue, 'u-push');
    assert.deepEqual(parse(job.data), { email: 'a@b.c' });
    assert.equal(job.priority, 10);
    assert.equal(job.maxAttempts, 3);
    assert.equal(job.attempts, 1);
    assert.ok(job.startedAt >= job.createdAt);
    assert.equal(await state(r.id), 'JOB_STATE_ACTIVE');
  });

  test('PushBatch answers ids in input order and PullBatch delivers them in that order', async () => {
    const jobs = Array.from({ length: 5 }, (_, i) => ({ data: json({ i }) }));
    const r = await c.call('pushBatch', { queue: 'u-batch', jobs });
    assert.equal(r.ok, true);
    assert.equal(r.ids.length, 5);
    const got = await c.call('pullBatch', { queue: 'u-batch', count: 10 });
    assert.deepEqual(got.jobs.map((j: Raw) => j.id), r.ids);
    assert.deepEqual(got.jobs.map((j: Raw) => parse(j.data)), jobs.map((_, i) => ({ i })));
  });

  test('Pull waits until a job is pushed, then receives it', async () => {
    let settled = false;
    const waiting = c.call('pull', { queue: 'u-wait' }).finally(() => (settled = true));
    // Stats visits every shard after the pull reached its shard (one connection, one ring each)
    await c.call('stats', {});
    assert.equal(settled, false);
    const pushed = await c.call('push', { queue: 'u-wait', data: json('late') });
    const job = await waiting;
    assert.equal(job.id, pushed.id);
    assert.equal(parse(job.data), 'late');
  });

  test('Pull honours the call deadline and takes nothing after it', async () => {
    const err = await failure(c.call('pull', { queue: 'u-deadline' }, { deadlineMs: 300 }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    const pushed = await c.call('push', { queue: 'u-deadline', data: json(1) });
    // the abandoned wait was cancelled: the job goes to the next puller with no attempt spent
    const job = await c.call('pull', { queue: 'u-deadline' }, { deadlineMs: 5000 });
    assert.equal(job.id, pushed.id);
    assert.equal(job.attempts, 1);
  });

  test('Ack completes a job; acking it again is NOT_FOUND with the TCP text', async () => {
    const { id } = await c.call('push', { queue: 'u-ack', data: json(1) });
    await c.call('pull', { queue: 'u-ack' });
    assert.deepEqual(await c.call('ack', { id, result: json({ sent: true }) }), { ok: true });
    assert.equal(await state(id), 'JOB_STATE_COMPLETED');
    const err = await failure(c.call('ack', { id }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.match(err.details, new RegExp(`^Job ${id} not found`));
  });

  test('Fail retries with back-off while attempts remain, then moves the job to the DLQ', async () => {
    const { id } = await c.call('push', { queue: 'u-fail', data: json(1), maxAttempts: 2, backoffMs: 50 });
    await c.call('pull', { queue: 'u-fail' });
    assert.deepEqual(await c.call('fail', { id, error: 'boom' }), { ok: true });
    assert.equal(await state(id), 'JOB_STATE_DELAYED');
    const again = await c.call('pull', { queue: 'u-fail' }, { deadlineMs: 5000 });
    assert.equal(again.id, id);
    assert.equal(again.attempts, 2);
    assert.equal(again.progressMsg, 'boom', 'the retry carries the last error');
    await c.call('fail', { id, error: 'boom again' });
    assert.equal(await state(id), 'JOB_STATE_FAILED');
    assert.equal((await c.call('stats', {})).dlq >= 1, true);
  });

  test('AckBatch acks ids that live on different shards and answers how many it acked', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await c.call('push', { queue: `u-ackb-${i}`, data: json(i) })).id);
    // id % 256 is the partition; partitions are dealt to the two shards by parity
    assert.ok(new Set(ids.map((id) => (id % 256) % 2)).size === 2, 'ids on both shards');
    for (let i = 0; i < 12; i++) await c.call('pull', { queue: `u-ackb-${i}` });
    const r = await c.call('ackBatch', { ids: [...ids, 999_999_999] });
    assert.deepEqual(r, { ok: true, acked: 12 });
    for (const id of ids) assert.equal(await state(id), 'JOB_STATE_COMPLETED');
  });

  test('Stats counts jobs across shards', async () => {
    const before = await c.call('stats', {});
    await c.call('pushBatch', { queue: 'u-stats-a', jobs: [{ data: json(1) }, { data: json(2) }] });
    await c.call('push', { queue: 'u-stats-b', data: json(1), delayMs: 60_000 });
    const after = await c.call('stats', {});
    assert.equal(after.queued - before.queued, 2);
    assert.equal(after.delayed - before.delayed, 1);
  });

  test('GetState of an unknown id is JOB_STATE_UNKNOWN; dependencies show WAITING_CHILDREN', async () => {
    assert.deepEqual(await c.call('getState', { id: 123_456_789 }), { id: 123_456_789, state: 'JOB_STATE_UNKNOWN' });
    const parent = await c.call('push', { queue: 'u-dep-parent', data: json(1) });
    const child = await c.call('push', { queue: 'u-dep-child', data: json(2), dependsOn: [parent.id] });
    assert.equal(await state(child.id), 'JOB_STATE_WAITING_CHILDREN');
  });

  test('errors carry the TCP texts under their gRPC status codes', async () => {
    const cases: Array<[() => Promise<unknown>, grpc.status, RegExp]> = [
      [() => c.call('push', { queue: 'bad name!', data: json(1) }), grpc.status.INVALID_ARGUMENT, /^Invalid queue name/],
      [() => c.call('push', { queue: 'u-err', data: Buffer.from('{"a":') }), grpc.status.INVALID_ARGUMENT, /^Invalid JSON/],
      [() => c.call('push', { queue: 'u-err', data: json('x'.repeat(1_048_576)) }), grpc.status.RESOURCE_EXHAUSTED, /^Payload too large/],
      [
        () => c.call('pushBatch', { queue: 'u-err', jobs: Array.from({ length: 1001 }, () => ({ data: json(1) })) }),
        grpc.status.INVALID_ARGUMENT,
        /^Batch too large \(max 1000\)$/,
      ],
      [() => c.call('pullBatch', { queue: 'u-err', count: 1001 }), grpc.status.INVALID_ARGUMENT, /^Batch too large \(max 1000\)$/],
      [() => c.call('push', { queue: 'u-err', data: json(1), dependsOn: [77_777_777] }), grpc.status.NOT_FOUND, /^Job 77777777 not found/],
      [() => c.call('fail', { id: 88_888_888 }), grpc.status.NOT_FOUND, /^Job 88888888 not found/],
    ];
    for (const [p, code, text] of cases) {
      const err = await failure(p());
      assert.equal(err.code, code, `${err.details}`);
      assert.match(err.details, text);
    }
    await c.call('push', { queue: 'u-err', data: json(1), uniqueKey: 'once' });
    const dup = await failure(c.call('push', { queue: 'u-err', data: json(2), uniqueKey: 'once' }));
    assert.equal(dup.code, grpc.status.ALREADY_EXISTS);
    assert.equal(dup.details, 'Duplicate job: key once');
  });

  test('invalid JSON bytes in a batch refuse the whole batch', async () => {
    const before = await c.call('stats', {});
    const err = await failure(c.call('pushBatch', { queue: 'u-bad-batch', jobs: [{ data: json(1) }, { data: Buffer.from([0x7b, 0xff]) }] }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /^Invalid JSON: .*jobs\[1\]\.data/);
    assert.deepEqual(await c.call('stats', {}), before);
  });
});
