import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, engine, push } from './helpers.js';

// compat.md "Job semantics": a failure's text is the job's progress_msg, as on the reference server

test('FAIL with a message: progress_msg carries it while retrying and in the DLQ', () => {
  const e = engine();
  const id = push(e, 'q', { maxAttempts: 2, backoff: 10 });
  e.pull('q', 1, T0, 1);
  e.progress(id, 40, 'halfway', T0);
  e.fail(id, 'smtp refused', T0 + 1);
  assert.equal(e.getJob(id)!.state, 'delayed');
  assert.equal(e.getJob(id)!.progressMsg, 'smtp refused');
  assert.equal(e.pull('q', 1, T0 + 11, 1)[0]!.progressMsg, 'smtp refused', 'the worker of the retry sees why the last one failed');
  e.fail(id, 'smtp refused again', T0 + 12);
  assert.deepEqual(
    e.dlq('q', 10).map((j) => [j.id, j.progressMsg, j.error]),
    [[id, 'smtp refused again', 'smtp refused again']],
  );
});

test('FAIL without a message keeps the previous progress message', () => {
  const e = engine();
  const id = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.progress(id, 10, 'step 1', T0);
  e.fail(id, null, T0 + 1);
  assert.equal(e.getJob(id)!.state, 'failed');
  assert.equal(e.getJob(id)!.progressMsg, 'step 1');
  const bare = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.fail(bare, null, T0 + 1);
  assert.equal(e.getJob(bare)!.progressMsg, null);
});

test('a lost lease, a timeout and an expired ttl each leave their error in progress_msg', () => {
  const e = engine();
  const lost = push(e, 'q');
  e.pull('q', 1, T0, 7);
  assert.equal(e.releaseOwner(7, T0 + 1), 1);
  assert.equal(e.getJob(lost)!.progressMsg, 'worker connection lost');

  const slow = push(e, 'q', { timeout: 1000 });
  e.pull('q', 1, T0, 1);
  e.tick(T0 + 1000);
  assert.equal(e.getJob(slow)!.state, 'failed');
  assert.equal(e.getJob(slow)!.progressMsg, 'Job timed out');

  const stale = push(e, 'q', { ttl: 500 });
  e.tick(T0 + 500);
  assert.equal(e.getJob(stale)!.state, 'failed');
  assert.equal(e.getJob(stale)!.progressMsg, 'TTL expired');
});

test('children of a failed parent carry "Dependency N failed", cascading and at push time', () => {
  const e = engine();
  const parent = push(e, 'q');
  const child = push(e, 'q', { dependsOn: [parent] });
  const grandchild = push(e, 'q', { dependsOn: [child] });
  e.pull('q', 1, T0, 1);
  e.fail(parent, 'boom', T0 + 1);
  assert.equal(e.getJob(parent)!.progressMsg, 'boom');
  assert.equal(e.getJob(child)!.progressMsg, `Dependency ${parent} failed`);
  assert.equal(e.getJob(grandchild)!.progressMsg, `Dependency ${child} failed`);
  // a child pushed after its parent is already in the DLQ goes straight there
  const late = push(e, 'q', { dependsOn: [parent] }, T0 + 2);
  assert.equal(e.getJob(late)!.state, 'failed');
  assert.equal(e.getJob(late)!.progressMsg, `Dependency ${parent} failed`);
});

test('RETRYDLQ starts the job afresh: progress and its message are cleared, the error is kept', () => {
  const e = engine();
  const id = push(e, 'q');
  e.pull('q', 1, T0, 1);
  e.fail(id, 'bad input', T0 + 1);
  assert.equal(e.retryDlq('q', id, T0 + 2), 1);
  const v = e.getJob(id)!;
  assert.equal(v.state, 'waiting');
  assert.equal(v.progressMsg, null);
  assert.equal(v.error, 'bad input');
});
