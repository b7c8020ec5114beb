import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changes, JobView } from '../../src/engine/types.js';
import { connect, type Sql } from '../../src/store/connection.js';
import { migrate } from '../../src/store/schema.js';
import { writeTransaction } from '../../src/store/transaction.js';
import { MIN_GROUP, UpdateGrouper, nullableTextArray } from '../../src/store/update-groups.js';
import { buildWriteSet } from '../../src/store/write-set.js';
import { NO_PG, freshDatabase } from './pg.js';
import { changes, jobRow } from './helpers.js';
import { jobView } from '../protocol/helpers.js';

function view(id: number, extra: Partial<JobView> = {}): JobView {
  return jobView({ id, queue: 'q', data: `{"n":${id}}`, priority: 0, createdAt: 1000 + id, runAt: 2000 + id, ...extra });
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + i) * 256);

test('updates sharing state, times, attempts and progress form one group; small groups, odd and retimed rows are staged', () => {
  const pulled = ids(1, MIN_GROUP).map((id) => view(id, { state: 'active', startedAt: 9000, attempts: 1 }));
  const odd = [view(100 * 256, { state: 'active', startedAt: 9001, attempts: 1 })];
  const failed = ids(200, MIN_GROUP).map((id) => view(id, { state: 'waiting', attempts: 1, error: 'boom' }));
  const delayed = ids(300, MIN_GROUP).map((id) => view(id, { state: 'delayed', attempts: 1 }));
  const ws = buildWriteSet([
    changes({ updated: [...pulled, ...odd] }),
    changes({ updated: [...failed, ...delayed], retimed: delayed.map((v) => v.id) }),
  ]);
  assert.equal(ws.updateCount, 3 * MIN_GROUP + 1);
  assert.equal(ws.updateGroups.length, 1);
  const g = ws.updateGroups[0]!;
  assert.deepEqual([g.state, g.startedAt, g.attempts, g.progress, g.finishedAt], ['active', 9000, 1, 0, 0]);
  assert.equal(g.ids, `{${pulled.map((v) => v.id).join(',')}}`);
  assert.equal(g.results, null);
  // the odd one out, the jobs with an error and the retimed ones go through the stage
  assert.equal(ws.updates.split('\n').filter(Boolean).length, 1 + 2 * MIN_GROUP);
});

test('a group carries results only when one of its jobs has one', () => {
  const grouper = new UpdateGrouper();
  const done = ids(1, MIN_GROUP).map((id, i) => view(id, { state: 'completed', finishedAt: 5, result: i === 2 ? '{"a":"b\\\\c"}' : null }));
  for (const v of done) grouper.add(v);
  const staged: JobView[] = [];
  const [g] = grouper.take((v) => staged.push(v));
  assert.equal(staged.length, 0);
  assert.equal(g!.results, '{NULL,NULL,"{\\"a\\":\\"b\\\\\\\\c\\"}",NULL,NULL,NULL,NULL,NULL}');
  assert.equal(nullableTextArray(['x', null, 'y"z']), '{"x",NULL,"y\\"z"}');
});

describe('grouped updates against PostgreSQL', { skip: NO_PG }, () => {
  let url: string;
  let sql: Sql;
  const owner = { index: 0, count: 1 };
  const write = (...turns: Partial<Changes>[]) => writeTransaction(sql, buildWriteSet(turns.map(changes)), owner, () => 0);

  before(async () => {
    url = await freshDatabase('update_groups');
    sql = connect(url, { max: 1, name: 'update-groups test' });
    await migrate(sql);
  });

  after(async () => {
    await sql?.end();
  });

  test('grouped and staged rows in one transaction store exactly the views', async () => {
    const jobs = ids(1, 20).map((id) => view(id));
    await write({ inserted: jobs });
    const results = [
      '{"ok":true}',
      null,
      '"quote \\" and backslash \\\\"',
      '{"braces":"{x,y}","comma":"a,b"}',
      'null',
      '"ünïcødé ✓"',
      '[1,2,3]',
      '"tab\\there"',
      '{}',
      '"NULL"',
    ];
    const active = jobs.slice(0, 10).map((v) => ({ ...v, state: 'active' as const, startedAt: 50_000, attempts: 1 }));
    const done = jobs.slice(10, 20).map((v, i) => ({ ...v, state: 'completed' as const, attempts: 2, finishedAt: 60_000, result: results[i]! }));
    // revived and completed within the merge: new times, so staged beside its group
    done[9] = { ...done[9]!, createdAt: 777_000, runAt: 778_000 };
    // a later turn of the same merge reports the first pulled job again (its own view, equal values)
    // and another job with a progress message (staged)
    const again = { ...active[0]! };
    const withMsg = { ...jobs[0]!, id: 21 * 256, state: 'active' as const, startedAt: 50_000, attempts: 1, progress: 30, progressMsg: 'p' };
    await write({ inserted: [{ ...withMsg, state: 'waiting', startedAt: 0, attempts: 0, progress: 0, progressMsg: null }] });
    await write({ updated: [...active, ...done], retimed: [done[9]!.id] }, { updated: [again, withMsg] });
    for (const v of active) {
      const r = (await jobRow(url, v.id))!;
      assert.deepEqual([r.state, r.started_at, r.attempts, r.created_at, r.run_at, r.result, r.finished_at], ['active', 50_000, 1, v.createdAt, v.runAt, null, 0]);
    }
    const m = (await jobRow(url, withMsg.id))!;
    assert.deepEqual([m.state, m.progress, m.progress_msg, m.attempts], ['active', 30, 'p', 1]);
    for (const v of done) {
      const r = (await jobRow(url, v.id))!;
      assert.deepEqual(
        [r.state, r.attempts, r.created_at, r.run_at, r.result, r.finished_at, r.started_at],
        ['completed', 2, v.createdAt, v.runAt, v.result, 60_000, 0],
        `job ${v.id}`,
      );
    }
  });
});
