import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyText, copyTextOrNull, textArray } from '../../src/store/copy-text.js';
import { buildWriteSet, isEmptyChanges } from '../../src/store/write-set.js';
import type { JobView } from '../../src/engine/types.js';
import { changes } from './helpers.js';

function view(id: number, state: JobView['state'], extra: Partial<JobView> = {}): JobView {
  return {
    id,
    queue: 'q',
    data: '{"a":1}',
    priority: 0,
    createdAt: 1000,
    runAt: 1000,
    startedAt: 0,
    attempts: 0,
    maxAttempts: 1,
    backoff: 1000,
    ttl: 0,
    timeout: 0,
    uniqueKey: null,
    dependsOn: [],
    progress: 0,
    progressMsg: null,
    tags: [],
    lifo: false,
    state,
    result: null,
    error: null,
    finishedAt: 0,
    owner: 0,
    ...extra,
  };
}


test('COPY text escapes backslash, tab, newline and carriage return, and writes NULL as \\N', () => {
  assert.equal(copyText('{"a":"x"}'), '{"a":"x"}');
  assert.equal(copyText('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re');
  assert.equal(copyTextOrNull(null), '\\N');
  assert.equal(textArray([]), '{}');
  assert.equal(textArray(['a', 'b"c', 'd\\e']), '{"a","b\\\\"c","d\\\\\\\\e"}');
});

test('an empty turn is recognised as having nothing to write', () => {
  assert.equal(isEmptyChanges(changes({})), true);
  assert.equal(isEmptyChanges(changes({ deleted: [5] })), false);
});

test('merged turns write each job once, as an insert if any turn created it', () => {
  const a = view(256, 'active');
  const b = view(512, 'completed', { result: '{"r":1}', finishedAt: 2000 });
  const ws = buildWriteSet([changes({ inserted: [a] }), changes({ updated: [a, b] }), changes({ updated: [b] })]);
  assert.equal(ws.insertCount, 1);
  assert.equal(ws.updateCount, 1);
  assert.match(ws.inserts, /^256\tq\t0\tactive\t/);
  assert.match(ws.updates, /^512\tcompleted\t1000\t1000\t0\t0\t0\t\\N\t\{"r":1\}\t\\N\t2000\n$/);
});

test('a job reported by several turns through different views is written once', () => {
  const a1 = view(256, 'waiting');
  const a2 = { ...a1 };
  const b1 = view(512, 'active', { startedAt: 1500, attempts: 1 });
  const b2 = { ...b1 };
  const ws = buildWriteSet([changes({ inserted: [a1], updated: [b1] }), changes({ updated: [a2, b2] })]);
  assert.equal(ws.insertCount, 1);
  assert.equal(ws.updateCount, 1);
  assert.equal(ws.updates.split('\n').filter(Boolean).length, 1);
});

test('a job that is gone by the time the transaction starts is only deleted', () => {
  const gone = view(256, 'unknown');
  const ws = buildWriteSet([changes({ inserted: [gone] }), changes({ deleted: [256, 768] })]);
  assert.equal(ws.insertCount, 0);
  assert.equal(ws.deleted, '{256,768}');
});

test('queue settings keep the last turn, default settings delete the row, crons rewrite touched names', () => {
  const ws = buildWriteSet([
    changes({
      queues: [{ name: 'q', paused: true, rateLimit: null, concurrencyLimit: null }],
      cronsUpserted: [{ name: 'c', queue: 'q', data: '1', schedule: '* * * * * *', priority: 0, nextRun: 5 }],
      seqs: [{ partition: 3, seq: 10 }],
    }),
    changes({
      queues: [{ name: 'q', paused: false, rateLimit: null, concurrencyLimit: null }],
      cronsDeleted: ['c'],
      seqs: [{ partition: 3, seq: 12 }],
    }),
  ]);
  assert.deepEqual(ws.queuesUpsert, []);
  assert.deepEqual(ws.queuesDelete, ['q']);
  assert.deepEqual(ws.cronNames, ['c']);
  assert.deepEqual(ws.cronsUpsert, []);
  assert.equal(ws.seqs.get(3), 12);
});
