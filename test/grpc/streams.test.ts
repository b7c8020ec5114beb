import { describe, after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARD_MODES, startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { FlashqGrpc, grpc, json, parse, type Raw, streamStatus } from './client.js';

for (const shards of SHARD_MODES) describe(`gRPC streams (SHARDS=${shards})`, () => {
  let server: RunningServer;
  let c: FlashqGrpc;

  before(async () => {
    server = await startServer({ HTTP_PORT: '0', SHARDS: shards });
    c = new FlashqGrpc(server.grpcPort);
  });

  after(async () => {
    c.close();
    await server.stop();
  });

  const state = async (id: number): Promise<string> => (await c.call('getState', { id })).state;

  async function pushMany(queue: string, n: number, extra: object = {}, data: (i: number) => unknown = (i) => ({ i })): Promise<number[]> {
    const ids: number[] = [];
    for (let at = 0; at < n; at += 1000) {
      const jobs = Array.from({ length: Math.min(1000, n - at) }, (_, k) => ({ data: json(data(at + k)), ...extra }));
      ids.push(...(await c.call('pushBatch', { queue, jobs })).ids);
    }
    return ids;
  }

  /** GetState of every id, counted by state. */
  async function states(ids: number[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const id of ids) {
      const s = await state(id);
      out[s] = (out[s] ?? 0) + 1;
    }
    return out;
  }

  test('StreamJobs delivers jobs as they are pushed; Ack settles them by id', async () => {
    const stream = c.streamJobs({ queue: 's-basic', batchSize: 10 });
    const got: Raw[] = [];
    stream.on('data', (job: Raw) => {
      got.push(job);
      void c.call('ack', { id: job.id });
    });
    const ended = streamStatus(stream);
    const ids = await pushMany('s-basic', 25);
    await waitFor(() => got.length === 25, 5000, '25 jobs on the stream');
    assert.deepEqual(got.map((j) => j.id), ids);
    assert.deepEqual(parse(got[7].data), { i: 7 });
    await waitFor(async () => (await states(ids)).JOB_STATE_COMPLETED === 25, 5000, 'all acked');
    stream.cancel();
    assert.equal((await ended).code, grpc.status.CANCELLED);
  });

  test('a StreamJobs client that stops reading leaves the jobs waiting', async () => {
    const n = 400;
    // 4 KiB jobs: the HTTP/2 window and the client's buffers hold a few dozen at most
    const ids = await pushMany('s-slow', n, {}, (i) => ({ i, pad: 'p'.repeat(4096) }));
    const stream = c.streamJobs({ queue: 's-slow', batchSize: 5, prefetch: 5 });
    const ended = streamStatus(stream);
    const seen = new Set<number>();
    let reading = false;
    // a busy worker: takes the first job, then reads nothing more for a while
    stream.on('data', (job: Raw) => {
      seen.add(job.id);
      if (!reading) stream.pause();
    });
    let last = -1;
    const active = await waitFor(
      async () => {
        const now = (await states(ids)).JOB_STATE_ACTIVE ?? 0;
        const settled = now > 0 && now === last;
        last = now;
        return settled ? now : 0;
      },
      10_000,
      'the stream to stop pulling',
    );
    assert.ok(active < n / 4, `only what the transport holds was pulled (${active} of ${n})`);
    assert.equal((await states(ids)).JOB_STATE_WAITING, n - active);
    reading = true;
    stream.resume();
    await waitFor(() => seen.size === n, 10_000, 'every job once the client reads');
    stream.cancel();
    await ended;
  });

  test('cancelling a stream fails back the jobs it held: retried, or to the DLQ when attempts are spent', async () => {
    const retried = await pushMany('s-cancel', 3, { maxAttempts: 3, backoffMs: 60_000 });
    const final = await pushMany('s-cancel', 1, { maxAttempts: 1 });
    const stream = c.streamJobs({ queue: 's-cancel', batchSize: 10 });
    const got: Raw[] = [];
    stream.on('data', (job: Raw) => got.push(job));
    const ended = streamStatus(stream);
    await waitFor(() => got.length === 4, 5000, '4 jobs delivered');
    assert.deepEqual(await states([...retried, ...final]), { JOB_STATE_ACTIVE: 4 });
    stream.cancel();
    await ended;
    await waitFor(async () => (await states(retried)).JOB_STATE_DELAYED === 3, 5000, 'retried jobs delayed');
    await waitFor(async () => (await state(final[0]!)) === 'JOB_STATE_FAILED', 5000, 'last attempt in the DLQ');
  });

  test('StreamJobs on an invalid queue ends with INVALID_ARGUMENT', async () => {
    const stream = c.streamJobs({ queue: 'no spaces allowed' });
    const s = await streamStatus(stream);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.details, /^Invalid queue name/);
  });

  test('ProcessJobs acks and fails through results and keeps jobs flowing', async () => {
    const ids = await pushMany('p-e2e', 300, { maxAttempts: 1 });
    const call = c.processJobs({ metadata: { queue: 'p-e2e', prefetch: '20' } });
    let results = 0;
    call.on('data', (job: Raw) => {
      const { i } = parse(job.data) as { i: number };
      if (i % 10 === 0) call.write({ id: job.id, success: false, error: `no ${i}` });
      else call.write({ id: job.id, success: true, result: json({ double: i * 2 }) });
      results++;
    });
    await waitFor(() => results === 300, 10_000, '300 results');
    await waitFor(async () => (await states(ids)).JOB_STATE_COMPLETED === 270, 5000, 'acked jobs completed');
    assert.deepEqual(await states(ids), { JOB_STATE_COMPLETED: 270, JOB_STATE_FAILED: 30 });
    call.end();
  });

  test('ProcessJobs keeps at most `prefetch` jobs in flight until results come back', async () => {
    const ids = await pushMany('p-bound', 30);
    const call = c.processJobs({ metadata: { queue: 'p-bound', prefetch: '5' } });
    const held: Raw[] = [];
    call.on('data', (job: Raw) => held.push(job));
    await waitFor(() => held.length === 5, 5000, '5 jobs');
    // Stats passes through every shard after the stream's pulls: no more were delivered meanwhile
    await c.call('stats', {});
    assert.equal((await states(ids)).JOB_STATE_ACTIVE, 5);
    for (const job of held.splice(0)) call.write({ id: job.id, success: true });
    await waitFor(() => held.length === 5, 5000, 'the next 5');
    call.end();
  });

  test('ProcessJobs uses queue "default" without metadata; half-closing fails back jobs without results', async () => {
    const ids = await pushMany('default', 4, { maxAttempts: 2, backoffMs: 60_000 });
    const call = c.processJobs();
    const got: Raw[] = [];
    call.on('data', (job: Raw) => got.push(job));
    const ended = streamStatus(call);
    await waitFor(() => got.length === 4, 5000, '4 jobs');
    call.write({ id: got[0].id, success: true });
    call.end();
    assert.equal((await ended).code, grpc.status.OK);
    await waitFor(async () => (await states(ids)).JOB_STATE_DELAYED === 3, 5000, 'three failed back');
    assert.equal(await state(got[0].id), 'JOB_STATE_COMPLETED');
  });

  test('ProcessJobs refuses a result with invalid JSON by ending the stream; its jobs come back', async () => {
    const [id] = await pushMany('p-badresult', 1, { maxAttempts: 2, backoffMs: 60_000 });
    const call = c.processJobs({ metadata: { queue: 'p-badresult' } });
    const ended = streamStatus(call);
    call.on('data', (job: Raw) => call.write({ id: job.id, success: true, result: Buffer.from('{oops') }));
    const s = await ended;
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.details, /^Invalid JSON/);
    await waitFor(async () => (await state(id!)) === 'JOB_STATE_DELAYED', 5000, 'job failed back');
  });

  test('ProcessJobs with an invalid prefetch is refused', async () => {
    const call = c.processJobs({ metadata: { queue: 'p-x', prefetch: 'lots' } });
    const s = await streamStatus(call);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
  });
});
