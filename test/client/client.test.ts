import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient, FlashqClientError } from '../../src/client/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const JOB_KEYS = [
  'id', 'queue', 'data', 'priority', 'created_at', 'run_at', 'started_at', 'attempts', 'max_attempts', 'backoff',
  'ttl', 'timeout', 'unique_key', 'depends_on', 'progress', 'progress_msg', 'tags', 'lifo',
];

const refused = (text: string) => (e: unknown) => e instanceof FlashqClientError && e.message.startsWith(text);

describe('FlashqClient commands', () => {
  let server: RunningServer;
  let client: FlashqClient;
  before(async () => {
    server = await startServer();
    client = new FlashqClient({ port: server.port, timeoutMs: 5000 });
    await client.connect();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  test('push, pull, ack: the pulled job has every JOB key and the ack result is kept', async () => {
    const id = await client.push('c-basic', { to: 'a@b.c' }, { priority: 5, max_attempts: 3, tags: ['mail'] });
    assert.equal(await client.getState(id), 'waiting');
    const job = await client.pull<{ to: string }>('c-basic', { timeout: 1000 });
    assert.ok(job);
    assert.deepEqual(Object.keys(job), JOB_KEYS);
    assert.equal(job.id, id);
    assert.deepEqual(job.data, { to: 'a@b.c' });
    assert.equal(job.priority, 5);
    assert.equal(job.attempts, 1);
    assert.deepEqual(job.tags, ['mail']);
    const view = await client.getJob(id);
    assert.equal(view.state, 'active');
    assert.equal(view.job?.id, id);
    await client.ack(id, { sent: true });
    assert.equal(await client.getState(id), 'completed');
    assert.deepEqual(await client.getResult(id), { sent: true });
  });

  test('batch push, pull and ack; ackBatch resolves with the count', async () => {
    const ids = await client.pushBatch('c-batch', [{ data: 1 }, { data: 2 }, { data: 3, priority: 9 }]);
    assert.equal(ids.length, 3);
    const jobs = await client.pullBatch('c-batch', 10, { timeout: 1000 });
    assert.equal(jobs[0]?.id, ids[2], 'the high-priority job first');
    assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set(ids));
    assert.equal(await client.ackBatch(ids), 3);
  });

  test('pulls with a timeout answer empty once it elapses', async () => {
    assert.equal(await client.pull('c-empty', { timeout: 50 }), null);
    assert.deepEqual(await client.pullBatch('c-empty', 5, { timeout: 50 }), []);
  });

  test('fail moves an exhausted job to the DLQ; retryDlq brings it back', async () => {
    const id = await client.push('c-dlq', { n: 1 });
    await client.pull('c-dlq', { timeout: 1000 });
    await client.fail(id, 'broken');
    assert.equal(await client.getState(id), 'failed');
    const dlq = await client.dlq('c-dlq', 10);
    assert.deepEqual(dlq.map((j) => j.id), [id]);
    assert.equal(await client.retryDlq('c-dlq', id), 1);
    assert.equal(await client.getState(id), 'waiting');
    assert.equal(await client.retryDlq('c-dlq'), 0);
  });

  test('cancel removes a waiting job', async () => {
    const id = await client.push('c-cancel', {});
    await client.cancel(id);
    assert.equal(await client.getState(id), 'unknown');
    await assert.rejects(client.cancel(id), refused('Job'));
  });

  test('progress of an active job is readable with getProgress', async () => {
    const id = await client.push('c-progress', {});
    await client.pull('c-progress', { timeout: 1000 });
    await client.progress(id, 30, 'a third');
    assert.deepEqual(await client.getProgress(id), { id, progress: 30, message: 'a third' });
    await client.progress(id, 60);
    assert.equal((await client.getProgress(id)).progress, 60);
    await client.ack(id);
  });

  test('queue controls show in listQueues, and a paused queue refuses an immediate pull', async () => {
    const q = 'c-control';
    await client.push(q, {});
    await client.pause(q);
    await client.rateLimit(q, 50);
    await client.setConcurrency(q, 4);
    let info = (await client.listQueues()).find((x) => x.name === q);
    assert.deepEqual(
      info && { paused: info.paused, rate_limit: info.rate_limit, concurrency_limit: info.concurrency_limit, pending: info.pending },
      { paused: true, rate_limit: 50, concurrency_limit: 4, pending: 1 },
    );
    await assert.rejects(client.pull(q, { timeout: 0 }), refused('Queue paused'));
    await client.resume(q);
    await client.rateLimitClear(q);
    await client.clearConcurrency(q);
    info = (await client.listQueues()).find((x) => x.name === q);
    assert.deepEqual(info && [info.paused, info.rate_limit, info.concurrency_limit], [false, null, null]);
    assert.ok(await client.pull(q, { timeout: 0 }));
  });

  test('cron jobs are created, listed and deleted', async () => {
    await client.cron('c-nightly', { queue: 'c-cron', data: { a: 1 }, schedule: '0 0 3 * * *', priority: 2 });
    const cron = (await client.cronList()).find((c) => c.name === 'c-nightly');
    assert.ok(cron);
    assert.deepEqual([cron.queue, cron.data, cron.schedule, cron.priority], ['c-cron', { a: 1 }, '0 0 3 * * *', 2]);
    assert.equal(typeof cron.next_run, 'number');
    await assert.rejects(client.cron('c-bad', { queue: 'c-cron', data: {}, schedule: 'not a schedule' }), refused('Invalid cron expression'));
    await client.cronDelete('c-nightly');
    assert.equal((await client.cronList()).some((c) => c.name === 'c-nightly'), false);
  });

  test('the */N interval shorthand of the reference SDK: every N seconds, listed as given', async () => {
    const before = Date.now();
    await client.cron('c-every-minute', { queue: 'c-cron', data: {}, schedule: '*/60' });
    const cron = (await client.cronList()).find((c) => c.name === 'c-every-minute');
    assert.equal(cron?.schedule, '*/60');
    assert.ok(cron!.next_run >= before + 60_000 && cron!.next_run <= Date.now() + 60_000, `next run ${cron!.next_run - before} ms ahead`);
    await assert.rejects(client.cron('c-every-0', { queue: 'c-cron', data: {}, schedule: '*/0' }), refused('Invalid cron expression'));
    await client.cronDelete('c-every-minute');
  });

  test('stats and metrics have their documented shapes', async () => {
    const stats = await client.stats();
    for (const k of ['queued', 'processing', 'delayed', 'dlq'] as const) assert.equal(typeof stats[k], 'number');
    const m = await client.metrics();
    for (const k of ['total_pushed', 'total_completed', 'total_failed', 'jobs_per_second', 'avg_latency_ms'] as const) {
      assert.equal(typeof m[k], 'number', k);
    }
    assert.ok(Array.isArray(m.queues));
    assert.ok(m.total_pushed > 0);
  });

  test('auth without configured tokens is accepted', async () => {
    // the client rejects an answer with ok:false, so resolving is the server's ok
    await assert.doesNotReject(client.auth('anything'));
    const id = await client.push('c-auth', { n: 1 });
    assert.equal(await client.getState(id), 'waiting');
  });

  test('send() returns the raw answer, refusals included', async () => {
    const a = await client.send({ cmd: 'FROB' });
    assert.equal(a.ok, false);
    assert.match(String(a.error), /^Unknown command/);
  });
});
