/**
 * The Worker is lease-aware: a job's lease ends at its `timeout` (the server then fails it) or when
 * the pull connection drops (the server fails the connection's jobs back). A handler sees the end
 * on ctx.signal; a pulled job whose lease ended before a handler was free is not run at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { FlashqClient, Worker, type Job } from 'flashq-ts/client';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

describe('Worker leases', () => {
  let server: RunningServer;
  let client: FlashqClient;
  before(async () => {
    server = await startServer();
    client = new FlashqClient({ port: server.port });
    await client.connect();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  test('ctx.signal aborts at the job timeout, and a job whose lease ran out while waiting is skipped', async () => {
    const queue = 'lease-timeout';
    const [first, second] = await client.pushBatch(queue, [{ data: 1, timeout: 300 }, { data: 2, timeout: 300 }]);
    const ran: number[] = [];
    const expired: [number, string][] = [];
    let abortedAt = -1;
    let startedAt = -1;
    const worker = new Worker(
      queue,
      async (job, ctx) => {
        ran.push(job.id);
        startedAt = job.started_at;
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        abortedAt = Date.now();
        throw ctx.signal.reason as Error;
      },
      { port: server.port, concurrency: 1, batchSize: 2, pullTimeoutMs: 100 },
    );
    worker.on('expired', (job: Job, why: string) => expired.push([job.id, why]));
    worker.on('error', () => {}); // the FAIL of a timed-out job is refused: the server already failed it
    await waitFor(() => expired.length === 1, 5000, 'the second job expired');
    await worker.close();
    assert.deepEqual(ran, [first], 'only the first job ran');
    assert.deepEqual(expired, [[second, 'timed out']]);
    // the server and the test share this machine's clock: the abort comes at the lease's end, not before
    // (20 ms of slack: a timer counts from the event loop's cached time, which may lag the clock)
    assert.ok(abortedAt >= startedAt + 280 && abortedAt < startedAt + 3000, `aborted ${abortedAt - startedAt} ms after the delivery`);
    await waitFor(async () => (await client.getState(second!)) === 'failed', 5000, 'the server failed the skipped job');
    assert.equal(await client.getState(first!), 'failed');
  });

  test('when the pull connection drops, running handlers see the abort and pulled-ahead jobs are not run', async () => {
    const queue = 'lease-drop';
    await client.pushBatch(queue, Array.from({ length: 5 }, (_, i) => ({ data: i, max_attempts: 3, backoff: 10 })));
    // a proxy in front of the server lets the test cut the worker's connections
    const sockets = new Set<Socket>();
    const proxy = createServer((s) => {
      const up = connect(server.port, '127.0.0.1');
      sockets.add(s).add(up);
      s.pipe(up).pipe(s);
      const end = () => (s.destroy(), up.destroy());
      s.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    const aborted: number[] = [];
    const ran: number[] = [];
    const expired: number[] = [];
    let cut = false;
    const worker = new Worker(
      queue,
      async (job, ctx) => {
        ran.push(job.id);
        if (cut) return; // after the reconnect: redeliveries complete
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(job.id);
      },
      { port, concurrency: 1, batchSize: 5, pullTimeoutMs: 100, reconnectInitialMs: 20 },
    );
    worker.on('expired', (job: Job) => expired.push(job.id));
    worker.on('error', () => {}); // acks of the lost leases are refused
    await waitFor(() => ran.length === 1, 5000, 'first handler running');
    cut = true;
    for (const s of sockets) s.destroy();
    await waitFor(() => aborted.length === 1, 5000, 'the running handler saw the lease end');
    await waitFor(() => expired.length === 4, 5000, 'the pulled-ahead jobs were dropped');
    // the server failed them back (an attempt spent) and delivers them again after the reconnect
    await waitFor(async () => (await client.listQueues()).find((q) => q.name === queue)?.pending === 0 && (await client.stats()).processing === 0, 10_000, 'all redelivered and completed');
    await worker.close();
    proxy.close();
    assert.deepEqual(new Set(ran).size, 5);
  });
});
