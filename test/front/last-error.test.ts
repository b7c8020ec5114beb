/**
 * compat.md "Job semantics": why a job failed is its progress_msg, on every surface that shows a
 * job. Each failure cause (FAIL with a message, a lost worker connection, a timeout, an expired
 * ttl, a failed dependency) is produced through the wire and read back through TCP GETJOB and DLQ
 * (JSON lines and MessagePack) and HTTP GET /jobs/{id} and GET /queues/{q}/dlq.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';
import { WireClient } from '../helpers/wire.js';
import { Api } from '../http/client.js';

interface Shown {
  id: number;
  progress_msg: string | null;
}

describe('the last error is the job\'s progress_msg on TCP and HTTP, for every failure cause', () => {
  let server: RunningServer;
  let json: WireClient;
  let mp: WireClient;
  let api: Api;
  /** job id → the error it must show, and its queue */
  const expected = new Map<number, { queue: string; error: string }>();

  before(async () => {
    server = await startServer({ SHARDS: '2' });
    json = await WireClient.open(server.port, 'json');
    mp = await WireClient.open(server.port, 'msgpack');
    api = new Api(server.httpPort);
  });
  after(async () => {
    await Promise.all([json.close(), mp.close()]);
    await server.stop();
  });

  const failed = (id: number) =>
    waitFor(async () => (await json.call({ cmd: 'GETSTATE', id })).state === 'failed', 10_000, `job ${id} in the DLQ`);

  it('FAIL with a message', async () => {
    const { id } = await json.call({ cmd: 'PUSH', queue: 'le-fail', data: 1 });
    assert.equal((await json.call({ cmd: 'PULL', queue: 'le-fail' })).job.id, id);
    assert.deepEqual(await json.call({ cmd: 'FAIL', id, error: 'smtp refused' }), { ok: true });
    await failed(id);
    expected.set(id, { queue: 'le-fail', error: 'smtp refused' });
  });

  it('a lost worker connection', async () => {
    const worker = await WireClient.open(server.port, 'msgpack');
    const { id } = await json.call({ cmd: 'PUSH', queue: 'le-lost', data: 1 });
    assert.equal((await worker.call({ cmd: 'PULL', queue: 'le-lost' })).job.id, id);
    await worker.close();
    await failed(id);
    expected.set(id, { queue: 'le-lost', error: 'worker connection lost' });
  });

  it('a timeout', async () => {
    const { id } = await json.call({ cmd: 'PUSH', queue: 'le-timeout', data: 1, timeout: 200 });
    assert.equal((await json.call({ cmd: 'PULL', queue: 'le-timeout' })).job.id, id);
    await failed(id);
    expected.set(id, { queue: 'le-timeout', error: 'Job timed out' });
  });

  it('an expired ttl', async () => {
    const { id } = await json.call({ cmd: 'PUSH', queue: 'le-ttl', data: 1, ttl: 200, delay: 400 });
    await failed(id);
    expected.set(id, { queue: 'le-ttl', error: 'TTL expired' });
  });

  it('a failed dependency', async () => {
    const parent = (await json.call({ cmd: 'PUSH', queue: 'le-dep', data: 'parent' })).id as number;
    const child = (await json.call({ cmd: 'PUSH', queue: 'le-dep', data: 'child', depends_on: [parent] })).id as number;
    assert.equal((await json.call({ cmd: 'GETSTATE', id: child })).state, 'waiting-children');
    assert.equal((await json.call({ cmd: 'PULL', queue: 'le-dep' })).job.id, parent);
    await json.call({ cmd: 'FAIL', id: parent, error: 'parent broke' });
    await failed(child);
    expected.set(parent, { queue: 'le-dep', error: 'parent broke' });
    expected.set(child, { queue: 'le-dep', error: `Dependency ${parent} failed` });
  });

  it('every one shows its error in GETJOB and DLQ (both framings), GET /jobs/{id} and GET /queues/{q}/dlq', async () => {
    assert.equal(expected.size, 6, 'every cause produced its failed job');
    for (const [id, { queue, error }] of expected) {
      for (const c of [json, mp]) {
        const got = await c.call({ cmd: 'GETJOB', id });
        assert.equal(got.state, 'failed', `${queue} ${id}`);
        assert.equal(got.job.progress_msg, error, `GETJOB ${id} (${queue})`);
        const dlq = (await c.call({ cmd: 'DLQ', queue })).jobs as Shown[];
        assert.equal(dlq.find((j) => j.id === id)?.progress_msg, error, `DLQ ${queue}`);
      }
      const one = await api.get(`/jobs/${id}`);
      assert.equal(one.status, 200);
      assert.equal(one.data.progress_msg, error, `GET /jobs/${id}`);
      const dlq = (await api.get(`/queues/${queue}/dlq`)).data as Shown[];
      assert.equal(dlq.find((j) => j.id === id)?.progress_msg, error, `GET /queues/${queue}/dlq`);
    }
  });
});
