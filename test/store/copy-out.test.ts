import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type Sql } from '../../src/store/connection.js';
import { copyValue, readCopy } from '../../src/store/copy-out.js';
import { freshDatabase, NO_PG } from './pg.js';

let sql: Sql;

before(async () => {
  if (NO_PG) return;
  sql = connect(await freshDatabase('copy_out'), { max: 1, name: 'copy-out test' });
  await sql.unsafe('create table t (id integer primary key, a text, b text)');
});

after(async () => {
  await sql?.end({ timeout: 1 });
});

test('copyValue resolves NULL and every escape COPY writes', () => {
  assert.equal(copyValue('\\N'), null);
  assert.equal(copyValue('plain'), 'plain');
  assert.equal(copyValue('a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh'), 'a\tb\nc\rd\\e\bf\fg\vh');
  assert.equal(copyValue('\\\\N'), '\\N', 'an escaped backslash before N is text, not NULL');
});

test('COPY output read back equals what the driver reads, across chunks, escapes and multibyte characters', { skip: NO_PG }, async () => {
  const values: Array<[number, string | null, string | null]> = [];
  const tricky = ['tab\there', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\N', '', 'é€😀 multibyte', '{"k":"v\\"q","t":["a\\\\b"]}', '\b\f\v\u0001'];
  for (let i = 0; i < 3000; i++) {
    // long values so rows straddle the stream's chunks, with multibyte characters at every offset
    const long = '😀é'.repeat(i % 37) + 'x'.repeat(i % 113) + tricky[i % tricky.length]!;
    values.push([i, i % 11 === 0 ? null : long, tricky[(i * 7) % tricky.length]!]);
  }
  await sql.unsafe('insert into t select * from json_to_recordset($1::text::json) as x(id integer, a text, b text)', [
    JSON.stringify(values.map(([id, a, b]) => ({ id, a, b }))),
  ]);
  const expected = await sql.unsafe<Array<{ id: number; a: string | null; b: string | null }>>('select id, a, b from t order by id');
  const got: Array<{ id: number; a: string | null; b: string | null }> = [];
  await sql.begin(async (tx) => {
    await readCopy(tx, 'copy (select id, a, b from t order by id) to stdout', (r) => got.push({ id: r.int(0), a: r.text(1), b: r.text(2) }));
  });
  assert.equal(got.length, values.length);
  assert.deepEqual(got, expected.map((r) => ({ id: r.id, a: r.a, b: r.b })));
});

test('numbers and booleans are read from the bytes as the driver reads them', { skip: NO_PG }, async () => {
  const ints = [0, 1, -1, 9, 10, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53) + 1, 123456789012345, 1234567890123456, 2 ** 62, -(2 ** 62)];
  const got: Array<{ n: number; neg: number; t: boolean; f: boolean; nul: boolean; width: number }> = [];
  await sql.begin(async (tx) => {
    await readCopy(
      tx,
      `copy (select n, -n, true, false, null::bigint, n from unnest('{${ints.map((n) => BigInt(n)).join(',')}}'::bigint[]) as n) to stdout`,
      (r) => got.push({ n: r.int(0), neg: r.int(1), t: r.bool(2), f: r.bool(3), nul: r.isNull(4) && !r.isNull(5), width: r.count }),
    );
  });
  assert.deepEqual(
    got,
    ints.map((n) => ({ n, neg: n === 0 ? 0 : -n, t: true, f: false, nul: true, width: 6 })),
  );
});

test('an empty result calls nothing', { skip: NO_PG }, async () => {
  let n = 0;
  await readCopy(sql, 'copy (select 1 where false) to stdout', () => n++);
  assert.equal(n, 0);
});
