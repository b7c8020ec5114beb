/**
 * Sandboxed processors: `new Worker(queue, processorFile, { threads })` runs the handler in a
 * piscina pool, so CPU-bound handlers leave the worker's event loop free, and a handler that
 * throws, exits its thread or leaves an uncaught error fails only its own job.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient, QueueEvents, Worker, type Job, type JobEvent } from 'flashq-ts/client';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

const PROCESSOR = new URL('./fixtures/processor.js', import.meta.url);

/** The longest gap between ticks of a 10 ms interval while `during` runs: how long the loop was blocked. */
async function longestStall(during: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  try {
    await during();
  } finally {
    clearInterval(t);
  }
  return worst;
}

describe('sandboxed Worker', () => {
  let server: RunningServer;
  let client: FlashqClient;
  const open: { close(): Promise<void> }[] = [];
  const track = <C extends { close(): Promise<void> }>(c: C): C => (open.push(c), c);
  before(async () => {
    server = await startServer();
    client = new FlashqClient({ port: server.port });
    await client.connect();
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await client.close();
    await server.stop();
  });

  test('CPU-bound handlers run off the event loop; the same handler in-thread blocks it', async () => {
    const jobs = Array.from({ length: 4 }, () => ({ data: { kind: 'cpu', ms: 400 } }));
    const run = async (queue: string, worker: () => { on(ev: string, fn: (job: Job, r: unknown) => void): unknown; close(): Promise<void> }) => {
      const ids = await client.pushBatch(queue, jobs);
      const results = new Map<number, unknown>();
      const stall = await longestStall(async () => {
        const w = track(worker());
        w.on('completed', (job: Job, r: unknown) => results.set(job.id, r));
        await waitFor(() => results.size === ids.length, 20_000, `${queue} done`);
        await w.close();
      });
      return { stall, results };
    };
    const sandboxed = await run('sb-cpu', () => new Worker('sb-cpu', PROCESSOR, { port: server.port, threads: 2, pullTimeoutMs: 100 }));
    const threads = new Set([...sandboxed.results.values()].map((r) => (r as { threadId: number }).threadId));
    assert.ok(![...threads].includes(0), 'handlers ran in pool threads, not the main thread');
    assert.ok(threads.size >= 1 && threads.size <= 2, `at most 2 threads, saw ${[...threads]}`);
    // the in-thread control shows the measurement can see a blocked loop
    const spin = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until);
    };
    const inThread = await run('sb-cpu-inline', () => new Worker<{ ms: number }>('sb-cpu-inline', (job) => spin(job.data.ms), { port: server.port, concurrency: 2, pullTimeoutMs: 100 }));
    assert.ok(inThread.stall >= 380, `in-thread handler blocked the loop for ${inThread.stall.toFixed(0)} ms`);
    assert.ok(sandboxed.stall < 200, `sandboxed handlers left the loop free (longest stall ${sandboxed.stall.toFixed(0)} ms)`);
  });

  test('a handler that throws, exits its thread or leaves an uncaught error fails that job only; the pool replaces dead threads', async () => {
    const queue = 'sb-crash';
    const kinds = ['throw', 'ok', 'exit', 'ok', 'uncaught', 'ok', 'exit', 'ok'];
    const ids = await client.pushBatch(queue, kinds.map((kind) => ({ data: { kind } })));
    const failed = new Map<number, string>();
    const completed = new Set<number>();
    const w = track(new Worker(queue, PROCESSOR, { port: server.port, threads: 2, pullTimeoutMs: 100 }));
    w.on('failed', (job: Job, err: Error) => failed.set(job.id, err.message));
    w.on('completed', (job: Job) => completed.add(job.id));
    await waitFor(() => failed.size + completed.size === ids.length, 20_000, 'every job settled');
    await w.close();
    kinds.forEach((kind, i) => {
      const id = ids[i]!;
      if (kind === 'ok') assert.ok(completed.has(id), `job ${id} (${kind}) completed`);
      else assert.ok(failed.has(id), `job ${id} (${kind}) failed`);
    });
    assert.equal(failed.get(ids[0]!), `processor refused job ${ids[0]}`);
    assert.match(failed.get(ids[2]!)!, /worker exited with code: 3/);
    assert.equal(failed.get(ids[4]!), `uncaught in thread for job ${ids[4]}`);
    // the server holds the same outcome, error text included
    const dead = await client.dlq(queue);
    assert.deepEqual(dead.map((j) => j.id).sort((a, b) => a - b), [ids[0], ids[2], ids[4], ids[6]].sort((a, b) => a! - b!));
    for (const i of [1, 3, 5, 7]) assert.equal(await client.getState(ids[i]!), 'completed');
    // and the error each crash gave, as its last error
    for (const i of [0, 2, 4, 6]) assert.equal(dead.find((j) => j.id === ids[i])?.progress_msg, failed.get(ids[i]!), `job ${ids[i]} in the DLQ`);
  });

  test('with one thread, the job after one that killed the thread runs on a new thread', async () => {
    const queue = 'sb-replace';
    const ids = await client.pushBatch(queue, ['ok', 'exit', 'ok', 'uncaught', 'ok'].map((kind) => ({ data: { kind } })));
    const threadOf = new Map<number, number>();
    const failed = new Set<number>();
    // one thread, one job at a time: the jobs run in order
    const w = track(new Worker(queue, PROCESSOR, { port: server.port, threads: 1, concurrency: 1, batchSize: 1, pullTimeoutMs: 100 }));
    w.on('completed', (job: Job, r: unknown) => threadOf.set(job.id, (r as { threadId: number }).threadId));
    w.on('failed', (job: Job) => failed.add(job.id));
    await waitFor(() => threadOf.size + failed.size === ids.length, 20_000, 'every job settled');
    await w.close();
    assert.deepEqual([...failed].sort((a, b) => a - b), [ids[1], ids[3]]);
    const [t0, t1, t2] = [threadOf.get(ids[0]!), threadOf.get(ids[2]!), threadOf.get(ids[4]!)];
    assert.ok(t0 !== undefined && t1 !== undefined && t2 !== undefined);
    assert.notEqual(t1, t0, 'the exited thread was replaced');
    assert.notEqual(t2, t1, 'the thread with the uncaught error was replaced');
  });

  test('updateProgress in the processor reaches the server (a job.progress event)', async () => {
    const events = track(new QueueEvents('sb-progress', { httpPort: server.httpPort }));
    await events.waitUntilReady();
    const seen: JobEvent[] = [];
    events.on('progress', (e: JobEvent) => seen.push(e));
    const pushed: JobEvent[] = [];
    events.on('pushed', (e: JobEvent) => pushed.push(e));
    // the subscription reaches the server's shards asynchronously: wait until it delivers
    await waitFor(async () => {
      await client.push('sb-progress', { kind: 'none' });
      return pushed.length > 0;
    }, 5000, 'subscription live');
    const id = await client.push('sb-progress', { kind: 'progress' });
    const w = track(new Worker('sb-progress', PROCESSOR, { port: server.port, threads: 1, pullTimeoutMs: 100 }));
    await waitFor(() => seen.some((e) => e.job_id === id), 10_000, 'progress event');
    const e = seen.find((x) => x.job_id === id)!;
    assert.equal(e.progress, 50);
    await w.close();
  });
});
