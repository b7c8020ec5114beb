import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, migrateDatabase, MIGRATIONS } from '../../src/store/schema.js';
import { connect } from '../../src/store/connection.js';
import { openPgWebhookStore } from '../../src/store/pg-webhook-store.js';
import { NO_PG, freshDatabase, query } from './pg.js';

interface Hook {
  id: string;
  url: string;
  events: string[];
  queue: string | null;
  secret: string | null;
}

test('migrations are versioned and applying them again changes nothing', { skip: NO_PG }, async () => {
  const url = await freshDatabase('migrations');
  assert.deepEqual(await migrateDatabase(url), MIGRATIONS.map((m) => m.version));
  assert.deepEqual(await migrateDatabase(url), []);
  // two servers starting together: the advisory lock serialises them
  const a = connect(url, { max: 1, name: 'a' });
  const b = connect(url, { max: 1, name: 'b' });
  assert.deepEqual(await Promise.all([migrate(a), migrate(b)]), [[], []]);
  await Promise.all([a.end(), b.end()]);
  const rows = await query<{ version: number }>(url, 'select version from flashq_schema order by version');
  assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
});

test('webhooks are saved, replaced, listed in creation order and removed', { skip: NO_PG }, async () => {
  const url = await freshDatabase('webhooks');
  await migrateDatabase(url);
  const store = await openPgWebhookStore<Hook>(url);
  const h1: Hook = { id: 'wh-1', url: 'http://a.example/hook', events: ['job.completed'], queue: 'emails', secret: 's3' };
  const h2: Hook = { id: 'wh-2', url: 'http://b.example/hook', events: ['*'], queue: null, secret: null };
  await store.save(h1);
  await store.save(h2);
  await store.save({ ...h1, events: ['job.failed'] });
  assert.deepEqual(await store.load(), [{ ...h1, events: ['job.failed'] }, h2]);
  await store.remove('wh-1');
  await store.remove('wh-1');
  assert.deepEqual(await store.load(), [h2]);
  await store.close();
  // a new store (a restarted server) sees the same
  const again = await openPgWebhookStore<Hook>(url);
  assert.deepEqual(await again.load(), [h2]);
  await again.close();
});
