import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobInput } from '../../src/engine/types.js';
import { T0, engine, job } from './helpers.js';

/** A batch whose payloads are spans of one block, as the TCP decoder hands them over. */
function spanned(texts: string[], overrides: Partial<JobInput> = {}): { block: Buffer; jobs: JobInput[] } {
  const block = Buffer.from(texts.join(''), 'latin1');
  let at = 0;
  const jobs = texts.map((t) => {
    const j = job({ ...overrides, data: '', block, ds: at, de: at + t.length });
    at += t.length;
    return j;
  });
  return { block, jobs };
}

test('jobs pushed as spans read their payload text everywhere a view is read', () => {
  const e = engine();
  const { jobs } = spanned(['{"a":1}', '[2]', '"three"']);
  const views = e.push('q', jobs, T0);
  assert.deepEqual(views.map((v) => v.data), ['{"a":1}', '[2]', '"three"']);
  assert.deepEqual(e.pull('q', 10, T0, 1).map((v) => v.data), ['{"a":1}', '[2]', '"three"']);
  assert.equal(e.getJob(views[1]!.id)?.data, '[2]');
});

test('a delayed, dead-lettered or parent-waiting job takes its own text (it may outlive its batch)', () => {
  const e = engine();
  const parent = e.push('p', [job({ data: '0' })], T0)[0]!;
  const { block, jobs } = spanned(['{"d":1}', '{"f":2}', '{"w":3}', '{"c":4}'], { maxAttempts: 1 });
  jobs[0] = { ...jobs[0]!, delay: 60_000 };
  jobs[3] = { ...jobs[3]!, dependsOn: [parent.id] };
  const [delayed, failing, waiting, child] = e.push('q', jobs, T0);
  const taken = e.pull('q', 10, T0, 1);
  assert.deepEqual(
    taken.map((v) => v.id),
    [failing!.id, waiting!.id],
  );
  e.fail(failing!.id, 'boom', T0); // max_attempts 1: to the DLQ
  block.fill(0x20); // stands for the block changing under jobs still on it
  assert.equal(e.getJob(delayed!.id)?.data, '{"d":1}');
  assert.equal(e.getJob(failing!.id)?.data, '{"f":2}');
  assert.equal(e.getJob(child!.id)?.data, '{"c":4}');
  assert.equal(e.getJob(waiting!.id)?.data.trim(), '', 'a plain job reads its span of the block');
});
