import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import type { JobState } from '../../src/engine/types.js';
import { FlashqError } from '../../src/base/errors.js';
import { T0, engine, job } from './helpers.js';

/** Small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const QUEUES = ['a', 'b', 'c'];

/** Every count the engine keeps incrementally must equal a recount from the jobs themselves. */
function checkCounts(e: Engine, known: Set<number>): void {
  const all = e.listJobs({}, 1_000_000, 0);
  const byState = new Map<JobState, number>();
  const perQueue = new Map<string, { pending: number; processing: number; dlq: number }>();
  for (const v of all) {
    byState.set(v.state, (byState.get(v.state) ?? 0) + 1);
    const q = perQueue.get(v.queue) ?? { pending: 0, processing: 0, dlq: 0 };
    if (v.state === 'waiting' || v.state === 'delayed' || v.state === 'waiting-children') q.pending++;
    if (v.state === 'active') q.processing++;
    if (v.state === 'failed') q.dlq++;
    perQueue.set(v.queue, q);
    assert.equal(e.getState(v.id), v.state);
  }
  const n = (s: JobState) => byState.get(s) ?? 0;
  assert.deepEqual(e.stats(), {
    queued: n('waiting'),
    processing: n('active'),
    delayed: n('delayed') + n('waiting-children'),
    dlq: n('failed'),
  });
  for (const info of e.listQueues()) {
    const q = perQueue.get(info.name) ?? { pending: 0, processing: 0, dlq: 0 };
    assert.deepEqual({ pending: info.pending, processing: info.processing, dlq: info.dlq }, q, `queue ${info.name}`);
    assert.deepEqual(new Set(e.dlq(info.name, 1_000_000).map((j) => j.id)), new Set(all.filter((j) => j.queue === info.name && j.state === 'failed').map((j) => j.id)));
  }
  for (const [name, q] of perQueue) {
    if (q.pending + q.processing + q.dlq > 0) assert.ok(e.listQueues().some((i) => i.name === name), `queue ${name} with jobs is listed`);
  }
  // ids the test has seen are either still known or gone for good
  for (const id of known) if (e.getJob(id) === null) known.delete(id);
}

for (const seed of [1, 2, 3, 4]) {
  test(`random operations keep every incremental count equal to a recount (seed ${seed})`, () => {
    const r = rng(seed);
    const e = engine({ keepCompleted: 40 });
    e.setEventsEnabled(true);
    const known = new Set<number>();
    let pulled: number[] = [];
    let now = T0;
    for (let step = 0; step < 3000; step++) {
      const queue = r.pick(QUEUES);
      const ids = [...known];
      // acks, fails and progress mostly aim at delivered jobs, sometimes at anything
      const target = () => (pulled.length > 0 && r.next() < 0.8 ? r.pick(pulled) : r.pick(ids));
      try {
        switch (r.int(14)) {
          case 0:
          case 1:
          case 2: {
            const parents = ids.length > 0 && r.next() < 0.2 ? [r.pick(ids)] : [];
            const batch = Array.from({ length: 1 + r.int(3) }, () =>
              job({
                priority: r.int(3),
                delay: r.next() < 0.3 ? r.int(2000) : 0,
                ttl: r.next() < 0.2 ? 500 + r.int(3000) : 0,
                timeout: r.next() < 0.3 ? 200 + r.int(1000) : 0,
                maxAttempts: 1 + r.int(3),
                backoff: r.int(300),
                uniqueKey: r.next() < 0.2 ? `k${r.int(5)}` : null,
                dependsOn: parents,
                lifo: r.next() < 0.2,
              }),
            );
            for (const v of e.push(queue, batch, now)) known.add(v.id);
            break;
          }
          case 3:
          case 4:
            pulled = pulled.concat(e.pull(queue, 1 + r.int(4), now, 1 + r.int(3)).map((j) => j.id)).slice(-50);
            break;
          case 5:
            if (ids.length > 0) e.ack(target(), r.next() < 0.5 ? '{"ok":1}' : null, now);
            break;
          case 6:
            if (ids.length > 0) e.fail(target(), 'err', now);
            break;
          case 7:
            if (ids.length > 0) e.cancel(r.pick(ids), now);
            break;
          case 8:
            e.releaseOwner(1 + r.int(3), now);
            break;
          case 9:
            e.retryDlq(queue, r.next() < 0.5 && ids.length > 0 ? r.pick(ids) : null, now);
            break;
          case 10:
            if (r.next() < 0.5) e.pause(queue);
            else e.resume(queue);
            break;
          case 11:
            if (r.next() < 0.5) e.setConcurrency(queue, 1 + r.int(3));
            else if (r.next() < 0.5) e.clearConcurrency(queue);
            else if (r.next() < 0.5) e.setRateLimit(queue, 1 + r.int(5), now);
            else e.clearRateLimit(queue);
            break;
          case 12:
            if (ids.length > 0) e.ackBatch([target(), target()], now);
            break;
          case 13:
            if (ids.length > 0) e.progress(target(), r.int(120), null, now);
            break;
        }
      } catch (err) {
        assert.ok(err instanceof FlashqError, `unexpected ${String(err)}`);
      }
      now += r.int(200);
      e.tick(now);
      e.takeEffects();
      if (step % 50 === 0) checkCounts(e, known);
    }
    checkCounts(e, known);
    // every active job is leased to one of the owners used: releasing them all leaves none active
    for (const owner of [1, 2, 3]) e.releaseOwner(owner, now);
    assert.equal(e.stats().processing, 0);
    checkCounts(e, known);
  });
}
