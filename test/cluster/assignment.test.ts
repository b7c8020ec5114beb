import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assign, moves } from '../../src/cluster/assignment.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { prng as rng } from '../helpers/prng.js';

function counts(a: ReadonlyArray<string | null>): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of a) if (n !== null) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

/**
 * The fewest moves any balanced assignment can make, computed independently of assign(): a
 * partition stays only if it already sits on a live node, each node keeps at most its target
 * (⌊P/n⌋, or ⌈P/n⌉ for P mod n of them), and the ⌈⌉ targets are best spent on nodes holding more
 * than ⌊P/n⌋.
 */
function fewestMoves(current: ReadonlyArray<string | null>, live: string[]): number {
  const base = Math.floor(current.length / live.length);
  const extra = current.length % live.length;
  const c = counts(current);
  let stays = 0;
  let above = 0;
  for (const n of live) {
    const k = c.get(n) ?? 0;
    stays += Math.min(k, base);
    if (k > base) above++;
  }
  return current.length - stays - Math.min(extra, above);
}

function checkBalanced(a: ReadonlyArray<string | null>, live: string[]): void {
  const c = counts(a);
  assert.ok(a.every((n) => n !== null && live.includes(n)), 'every partition on a live node');
  const sizes = live.map((n) => c.get(n) ?? 0);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced within 1: ${sizes.join(',')}`);
}

test('an empty cluster gets every partition, evenly', () => {
  const a = assign(new Array(PARTITIONS).fill(null), ['b', 'a', 'c']);
  checkBalanced(a, ['a', 'b', 'c']);
  assert.deepEqual([...counts(a).values()].sort(), [85, 85, 86]);
});

test('with no live node nothing is assigned', () => {
  assert.deepEqual(assign(['a', null, 'b'], []), [null, null, null]);
});

test('random states: balanced within 1, every partition on a live node, and the fewest moves possible', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const r = rng(seed);
    const pool = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
    const size = 1 + Math.floor(r() * 300);
    const live = pool.filter(() => r() < 0.6);
    if (live.length === 0) live.push('n3');
    // current owners may include dead nodes and unowned partitions, in any imbalance
    const skew = r();
    const current = Array.from({ length: size }, () => (r() < 0.1 ? null : pool[Math.floor(Math.pow(r(), 1 + 3 * skew) * pool.length)]!));
    const next = assign(current, live);
    assert.equal(next.length, size);
    checkBalanced(next, live);
    assert.equal(moves(current, next), fewestMoves(current, live), `seed ${seed}`);
    assert.deepEqual(assign(next, live), next, `seed ${seed}: a balanced assignment is stable`);
  }
});

test('a node joining takes only its share, all of it from the others', () => {
  let cur = assign(new Array(PARTITIONS).fill(null), ['a', 'b', 'c']);
  const next = assign(cur, ['a', 'b', 'c', 'd']);
  checkBalanced(next, ['a', 'b', 'c', 'd']);
  assert.equal(moves(cur, next), PARTITIONS / 4);
  for (let p = 0; p < PARTITIONS; p++) if (cur[p] !== next[p]) assert.equal(next[p], 'd', `partition ${p} moved between old nodes`);
  cur = next;
});

test('a node leaving moves only its own partitions', () => {
  const cur = assign(new Array(PARTITIONS).fill(null), ['a', 'b', 'c', 'd']);
  const next = assign(cur, ['a', 'b', 'd']);
  checkBalanced(next, ['a', 'b', 'd']);
  for (let p = 0; p < PARTITIONS; p++) if (cur[p] !== 'c') assert.equal(next[p], cur[p], `partition ${p} moved needlessly`);
  assert.equal(moves(cur, next), counts(cur).get('c'));
});
