import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Shard } from '../../src/shard/shard.js';
import type { ControlMessage } from '../../src/shard/messages.js';
import type { ShardOptions } from '../../src/shard/start.js';
import type { Outbox } from '../../src/shard/outbox.js';
import { Format } from '../../src/protocol/result.js';
import { migrateDatabase } from '../../src/store/schema.js';
import { openPgShardStore, type PgShardStore } from '../../src/store/shard-store.js';
import { waitFor } from '../helpers/server.js';
import { NO_PG, freshDatabase, query } from './pg.js';

const OPTS: ShardOptions = { index: 0, count: 1, keepCompleted: 1000, maxQueues: 100, maxBatch: 1000 };

/** A shard without a worker thread: requests in, answers collected as text. */
async function shard(url: string, persist: 'sync' | 'async'): Promise<{ core: Shard; store: PgShardStore; answers: string[]; controls: ControlMessage[] }> {
  const answers: string[] = [];
  const controls: ControlMessage[] = [];
  const outbox: Outbox = {
    answer: (_conn, _seq, _code, bytes) => answers.push(Buffer.from(bytes).toString('utf8').trim()),
    event: () => {},
    shardMsg: () => {},
    control: (msg) => controls.push(msg),
    flush: () => {},
  };
  await migrateDatabase(url);
  const store = await openPgShardStore(OPTS, { url, persist });
  const core = new Shard(OPTS, outbox, store);
  await core.recover();
  return { core, store, answers, controls };
}

function push(core: Shard, seq: number, data: unknown): void {
  core.request(1, seq, Format.TcpJson, Buffer.from(JSON.stringify({ cmd: 'PUSH', queue: 'gc', data }) + '\n'));
  core.endTurn();
}

describe('group commit', { skip: NO_PG }, () => {
  test('turns that end while a commit is in flight go together into the next transaction', async () => {
    const url = await freshDatabase('groupcommit');
    const { core, store, answers, controls } = await shard(url, 'sync');
    assert.deepEqual(controls, [{ op: 'store', available: true }]);
    const before = store.stats.transactions;
    for (let i = 0; i < 40; i++) push(core, i, { i });
    await waitFor(() => answers.length === 40, 10_000, '40 answers');
    // the first turn opens a transaction alone; the 39 that end during it share the next one
    assert.ok(store.stats.transactions - before <= 3, `${store.stats.transactions - before} transactions for 40 turns`);
    const ids = answers.map((a) => (JSON.parse(a) as { id: number }).id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'answers leave in turn order');
    const rows = await query<{ n: number }>(url, "select count(*)::int as n from flashq_jobs where queue = 'gc'");
    assert.equal(rows[0]!.n, 40);
    await core.close();
  });

  test('PERSIST=sync: no answer leaves before its transaction committed', async () => {
    const url = await freshDatabase('syncanswer');
    const { core, answers } = await shard(url, 'sync');
    push(core, 0, 'x');
    assert.equal(answers.length, 0, 'answered synchronously, before any commit');
    await waitFor(() => answers.length === 1, 10_000, 'answer');
    const id = (JSON.parse(answers[0]!) as { id: number }).id;
    // the answer is out, so the row must already be there
    assert.equal((await query(url, 'select id from flashq_jobs where id = $1', [id])).length, 1);
    await core.close();
  });

  test('PERSIST=async: answers leave at once and the commit follows', async () => {
    const url = await freshDatabase('asyncanswer');
    const { core, store, answers } = await shard(url, 'async');
    for (let i = 0; i < 10; i++) push(core, i, i);
    await new Promise((r) => setImmediate(r));
    assert.equal(answers.length, 10, 'every answer out after one tick');
    await waitFor(async () => (await query<{ n: number }>(url, 'select count(*)::int as n from flashq_jobs'))[0]!.n === 10, 5_000, 'rows');
    assert.ok(store.stats.transactions >= 1);
    await core.close();
  });
});
