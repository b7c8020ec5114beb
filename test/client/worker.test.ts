import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient, Worker, type Job } from '../../src/client/index.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

describe('Worker', () => {
  let server: RunningServer;
  let client: FlashqClient;
  // closed even when a test fails half-way, so the server can stop
  const opened: { close(): Promise<void> }[] = [];
  const track = <C extends { close(): Promise<void> }>(c: C): C => (opened.push(c), c);
  before(async () => {
    server = await startServer();
    client = new FlashqClient({ port: server.port });
    await client.connect();
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await client.close();
    await server.stop();
  });

  test('10,000 jobs are each handled exactly once at concurrency 100', async () => {
    const queue = 'w-many';
    for (let b = 0; b < 10; b++) {
      await client.pushBatch(queue, Array.from({ length: 1000 }, (_, i) => ({ data: { n: b * 1000 + i } })));
    }
    const seen = new Map<number, number>();
    let running = 0;
    let most = 0;
    const worker = track(new Worker<{ n: number }>(
      queue,
      async (job) => {
        running++;
        most = Math.max(most, running);
        seen.set(job.data.n, (seen.get(job.data.n) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
        running--;
      },
      { port: server.port, concurrency: 100, batchSize: 500, pullTimeoutMs: 200 },
    ));
    await waitFor(() => seen.size === 10_000, 30_000, 'all jobs handled');
    await worker.close();
    assert.ok([...seen.values()].every((c) => c === 1), 'no job handled twice');
    assert.ok(most <= 100, `at most 100 handlers at once, saw ${most}`);
    const stats = await client.stats();
    assert.equal(stats.queued, 0);
    assert.equal(stats.processing, 0);
  });

  test('a handler that returns a value acks with it as the result', async () => {
    const id = await client.push('w-result', { x: 2 });
    const completed: number[] = [];
    const worker = track(new Worker<{ x: number }>('w-result', (job) => ({ doubled: job.data.x * 2 }), { port: server.port, pullTimeoutMs: 200 }));
    worker.on('completed', (job: Job) => completed.push(job.id));
    await waitFor(() => completed.includes(id), 5000, 'completion');
    await worker.close();
    assert.equal(await client.getState(id), 'completed');
    assert.deepEqual(await client.getResult(id), { doubled: 4 });
  });

  test('a throwing handler fails the job; it is retried up to max_attempts, then lands in the DLQ', async () => {
    const queue = 'w-fail';
    const id = await client.push(queue, { bad: true }, { max_attempts: 2, backoff: 10 });
    const failures: { id: number; attempts: number; message: string }[] = [];
    const worker = track(new Worker(
      queue,
      () => {
        throw new Error('boom');
      },
      { port: server.port, pullTimeoutMs: 200 },
    ));
    worker.on('failed', (job: Job, err: Error) => failures.push({ id: job.id, attempts: job.attempts, message: err.message }));
    await waitFor(() => failures.length === 2, 10_000, 'two failed attempts');
    await worker.close();
    assert.deepEqual(failures, [
      { id, attempts: 1, message: 'boom' },
      { id, attempts: 2, message: 'boom' },
    ]);
    assert.equal(await client.getState(id), 'failed');
    const dlq = await client.dlq(queue);
    assert.deepEqual(
      dlq.map((j) => [j.id, j.attempts]),
      [[id, 2]],
    );
  });

  test('a handler reports progress through the job and through its context', async () => {
    const id = await client.push('w-progress', {});
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const steps: string[] = [];
    const worker = track(new Worker(
      'w-progress',
      async (job, ctx) => {
        await job.updateProgress(40, 'reading');
        steps.push('job');
        await gate;
        await ctx.updateProgress(90, 'writing');
        steps.push('ctx');
      },
      { port: server.port, pullTimeoutMs: 200 },
    ));
    await waitFor(() => steps.length === 1, 5000, 'first progress');
    assert.deepEqual(await client.getProgress(id), { id, progress: 40, message: 'reading' });
    release();
    await waitFor(() => steps.length === 2, 5000, 'second progress');
    await worker.close();
    assert.equal(await client.getState(id), 'completed');
  });

  test('close() waits for running handlers and their acks before it resolves', async () => {
    const queue = 'w-close';
    const ids = await client.pushBatch(queue, [{ data: 1 }, { data: 2 }, { data: 3 }]);
    let started = 0;
    let finished = 0;
    const worker = track(new Worker(
      queue,
      async () => {
        started++;
        await new Promise((r) => setTimeout(r, 300));
        finished++;
      },
      { port: server.port, concurrency: 3, pullTimeoutMs: 200 },
    ));
    await waitFor(() => started === 3, 5000, 'handlers started');
    await worker.close();
    assert.equal(finished, 3);
    for (const id of ids) assert.equal(await client.getState(id), 'completed');
  });

  test('close() returns within the pull wait when the queue is empty, and nothing stays active', async () => {
    const worker = track(new Worker('w-empty', () => undefined, { port: server.port, pullTimeoutMs: 200, autoStart: false }));
    await worker.start();
    const t0 = Date.now();
    await worker.close();
    assert.ok(Date.now() - t0 < 1500, `closed in ${Date.now() - t0} ms`);
    const id = await client.push('w-empty', {});
    assert.equal(await client.getState(id), 'waiting');
  });
});
