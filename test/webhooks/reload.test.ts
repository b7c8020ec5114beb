import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebhookRegistry } from '../../src/webhooks/registry.js';
import { MemoryWebhookStore } from '../../src/webhooks/webhook-persistence.js';
import type { Webhook } from '../../src/webhooks/types.js';

/** A store shared by two registries (two nodes), whose reads can be held back. */
class SlowStore extends MemoryWebhookStore {
  hold: Promise<void> | null = null;
  reads = 0;
  override async load(): Promise<Webhook[]> {
    this.reads++;
    const list = await super.load();
    if (this.hold) await this.hold;
    return list;
  }
}

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the store read to start');
    await new Promise((r) => setImmediate(r));
  }
}

const hook = (url: string): Record<string, unknown> => ({ url, events: ['job.completed'] });
const urls = (r: WebhookRegistry) => r.list().map((w) => w.url).sort();

describe('WebhookRegistry.reload (cluster mode: another node changed the webhooks)', () => {
  test('a reload shows what another registry created and deleted in the same store', async () => {
    const store = new SlowStore();
    const here = new WebhookRegistry(store);
    const there = new WebhookRegistry(store);
    await Promise.all([here.load(), there.load()]);
    const made = await there.create(hook('http://127.0.0.1:1/a'), 1);
    assert.deepEqual(urls(here), []);
    await here.reload();
    assert.deepEqual(urls(here), ['http://127.0.0.1:1/a']);
    await there.remove(made.id);
    await here.reload();
    assert.deepEqual(urls(here), []);
    here.close();
    there.close();
  });

  test('a create that finishes while a reload reads the store is kept', async () => {
    const store = new SlowStore();
    const reg = new WebhookRegistry(store);
    await reg.load();
    let release!: () => void;
    store.hold = new Promise((r) => (release = r));
    const before = store.reads;
    const reading = reg.reload();
    // the reload's read took its snapshot before this create was stored
    await waitFor(() => store.reads > before);
    await reg.create(hook('http://127.0.0.1:1/b'), 1);
    store.hold = null;
    release();
    await reading;
    assert.deepEqual(urls(reg), ['http://127.0.0.1:1/b'], 'the reload read again instead of dropping the new webhook');
    reg.close();
  });

  test('notices during a reload coalesce into one more read', async () => {
    const store = new SlowStore();
    const reg = new WebhookRegistry(store);
    await reg.load();
    const before = store.reads;
    let release!: () => void;
    store.hold = new Promise((r) => (release = r));
    const first = reg.reload();
    await waitFor(() => store.reads > before);
    // two notices while the store is read: one more read covers both
    const all = [first, reg.reload(), reg.reload()];
    store.hold = null;
    release();
    await Promise.all(all);
    assert.equal(store.reads - before, 2);
    reg.close();
  });

  test('create and delete tell onChange (the server passes it to the other nodes)', async () => {
    const reg = new WebhookRegistry(new MemoryWebhookStore());
    await reg.load();
    let told = 0;
    reg.onChange = () => told++;
    const w = await reg.create(hook('http://127.0.0.1:1/c'), 1);
    await reg.remove(w.id);
    assert.equal(told, 2);
    reg.close();
  });
});
