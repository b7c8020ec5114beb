import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient, QueueEvents, Worker, type JobEvent } from 'flashq-ts/client';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

describe('QueueEvents', () => {
  let server: RunningServer;
  let client: FlashqClient;
  before(async () => {
    server = await startServer({ AUTH_TOKENS: 'sesame' });
    client = new FlashqClient({ port: server.port, token: 'sesame' });
    await client.connect();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  /** The subscription reaches the shards asynchronously: push probes until one is seen. */
  async function live(events: QueueEvents, queue: string): Promise<void> {
    let seen = false;
    const on = () => (seen = true);
    events.on('pushed', on);
    await waitFor(async () => {
      await client.push(queue, { probe: true });
      return seen;
    }, 5000, 'subscription live');
    events.off('pushed', on);
  }

  test('a queue subscription sees a job pushed, started, progressing, completed, and a failure with its error', async () => {
    const events = new QueueEvents('qe', { httpPort: server.httpPort, token: 'sesame' });
    await events.waitUntilReady();
    await live(events, 'qe');
    const got: JobEvent[] = [];
    events.on('event', (e: JobEvent) => got.push(e));
    const other: JobEvent[] = [];
    events.on('pushed', (e: JobEvent) => other.push(e));
    const ok = await client.push('qe', { n: 1 });
    const bad = await client.push('qe', { n: 2 });
    await client.push('qe-other', { n: 3 });
    const worker = new Worker<{ n?: number; probe?: boolean }>(
      'qe',
      async (job) => {
        if (job.data.n === 2) throw new Error('no good');
        if (job.data.n === 1) await job.updateProgress(40);
      },
      { port: server.port, token: 'sesame', pullTimeoutMs: 100 },
    );
    const types = (id: number) => got.filter((e) => e.job_id === id).map((e) => e.event_type);
    await waitFor(() => types(ok).includes('job.completed') && types(bad).includes('job.failed'), 10_000, 'both outcomes');
    await worker.close();
    assert.deepEqual(types(ok), ['job.pushed', 'job.started', 'job.progress', 'job.completed']);
    assert.deepEqual(types(bad), ['job.pushed', 'job.started', 'job.failed']);
    assert.equal(got.find((e) => e.job_id === bad && e.event_type === 'job.failed')!.error, 'no good');
    assert.equal(got.find((e) => e.job_id === ok && e.event_type === 'job.progress')!.progress, 40);
    assert.ok(got.every((e) => e.queue === 'qe'), 'only its own queue');
    await events.close();
  });

  test('a wrong token is refused with the HTTP status, not retried', async () => {
    const events = new QueueEvents('qe', { httpPort: server.httpPort, token: 'wrong' });
    await assert.rejects(events.waitUntilReady(), /HTTP 401/);
    await events.close();
  });
});
