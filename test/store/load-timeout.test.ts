import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { waitFor } from '../helpers/server.js';
import { durableServer } from './helpers.js';
import { LineClient } from './line-client.js';
import { NO_PG, freshDatabase } from './pg.js';

describe('the shard reload has a deadline', { skip: NO_PG }, () => {
  test('a reload stuck on a lock fails the start after STORE_LOAD_TIMEOUT_MS, naming it; a free database starts', async () => {
    const url = await freshDatabase('load_timeout');
    // a first start migrates the schema and leaves a job behind
    const first = await durableServer(url, { SHARDS: '1' });
    const c = await LineClient.connect(first.port);
    const id = (await c.ok({ cmd: 'PUSH', queue: 'lt', data: { kept: true } })).id as number;
    c.destroy();
    assert.equal(await first.stop(), 0);

    // another session holds a lock that the reload's reads wait for
    const holder = postgres(url, { max: 1, onnotice: () => {} });
    const reserved = await holder.reserve();
    await reserved.unsafe('begin');
    await reserved.unsafe('lock table flashq_crons in access exclusive mode');
    try {
      const started = Date.now();
      await assert.rejects(durableServer(url, { SHARDS: '1', STORE_LOAD_TIMEOUT_MS: '800' }), (e: Error) => {
        assert.match(e.message, /exited with 1/);
        assert.match(e.message, /did not answer the shard reload within 800 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 20_000);
    } finally {
      await reserved.unsafe('rollback');
      reserved.release();
      await holder.end();
    }

    const again = await durableServer(url, { SHARDS: '1', STORE_LOAD_TIMEOUT_MS: '800' });
    const d = await LineClient.connect(again.port);
    await waitFor(async () => (await d.ok({ cmd: 'GETSTATE', id })).state === 'waiting', 5000, 'the job back');
    d.destroy();
    await again.stop();
  });
});
