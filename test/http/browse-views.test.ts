import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashqClient } from '../../src/client/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { Api } from './client.js';

/** What a dashboard reads: deep pages of the job browser, queue counts by state, a job's last error. */
for (const shards of ['0', '2']) {
  describe(`HTTP views a dashboard reads (SHARDS=${shards})`, () => {
    let server: RunningServer;
    let api: Api;
    let client: FlashqClient;
    before(async () => {
      server = await startServer({ SHARDS: shards });
      api = new Api(server.httpPort);
      client = new FlashqClient({ host: '127.0.0.1', port: server.port });
      await client.connect();
    });
    after(async () => {
      await client.close();
      await server.stop();
    });

    test('GET /jobs pages past the batch limit: a queue of 5000 jobs has its oldest on the last page', async () => {
      const ids: number[] = [];
      for (let b = 0; b < 5; b++) {
        ids.push(...(await client.pushBatch('deep', Array.from({ length: 1000 }, (_, i) => ({ data: { n: b * 1000 + i } })))));
      }
      const newestFirst = [...ids].reverse();
      for (const offset of [0, 999, 1000, 2500, 4950]) {
        const a = await api.get(`/jobs?queue=deep&limit=50&offset=${offset}`);
        assert.equal(a.status, 200, a.raw);
        assert.deepEqual(
          a.data.map((j: { id: number }) => j.id),
          newestFirst.slice(offset, offset + 50),
          `offset ${offset}`,
        );
      }
      const waiting = await api.get('/jobs?queue=deep&state=waiting&limit=10&offset=4995');
      assert.deepEqual(
        waiting.data.map((j: { id: number }) => j.id),
        newestFirst.slice(4995),
      );
      assert.deepEqual((await api.get('/jobs?queue=deep&limit=10&offset=5000')).data, []);
    });

    test('GET /queues splits pending into waiting, delayed and waiting_children', async () => {
      const parent = await api.push('parts', { data: {}, delay: 60_000 });
      await api.push('parts', { data: {}, depends_on: [parent.id] });
      await api.push('parts', { data: {} });
      await api.push('parts', { data: {} });
      const q = (await api.get('/queues')).data.find((x: { name: string }) => x.name === 'parts');
      assert.deepEqual(
        { pending: q.pending, waiting: q.waiting, delayed: q.delayed, waiting_children: q.waiting_children },
        { pending: 4, waiting: 2, delayed: 1, waiting_children: 1 },
      );
      // the document's keys stay first and unchanged
      assert.deepEqual(Object.keys(q).slice(0, 7), ['name', 'pending', 'processing', 'dlq', 'paused', 'rate_limit', 'concurrency_limit']);
    });

    test("GET /jobs/{id} shows a failed job's last error", async () => {
      const job = await api.push('errs', { data: {}, max_attempts: 1 });
      await api.get('/queues/errs/jobs?count=1');
      assert.equal((await api.post(`/jobs/${job.id}/fail`, { error: 'SMTP down' })).status, 200);
      const a = await api.get(`/jobs/${job.id}`);
      assert.equal(a.data.state, 'failed');
      assert.equal(a.data.error, 'SMTP down');
      const fresh = await api.push('errs', { data: {} });
      assert.equal((await api.get(`/jobs/${fresh.id}`)).data.error, null);
    });
  });
}
