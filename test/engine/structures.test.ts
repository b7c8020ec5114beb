import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deque } from '../../src/engine/deque.js';
import { ReadyQueue } from '../../src/engine/ready-queue.js';
import { DelayHeap } from '../../src/engine/delay-heap.js';
import { JobTable } from '../../src/engine/job-table.js';
import { TokenBucket } from '../../src/engine/rate-limit.js';
import { Retention } from '../../src/engine/retention.js';

interface Item {
  name: string;
  pos: number;
}
const item = (name: string): Item => ({ name, pos: 0 });
const names = (xs: Iterable<Item>) => [...xs].map((x) => x.name);

test('deque: items pushed at the back come out in order, items pushed at the front come out first', () => {
  const d = new Deque<Item>();
  d.pushBack(item('a'));
  d.pushBack(item('b'));
  d.pushFront(item('z'));
  assert.deepEqual(names(d), ['z', 'a', 'b']);
  assert.equal(d.popFront()!.name, 'z');
  assert.equal(d.popFront()!.name, 'a');
  assert.equal(d.popFront()!.name, 'b');
  assert.equal(d.popFront(), null);
  assert.equal(d.size, 0);
});

test('deque: an item removed from the middle is skipped and the order of the rest is kept across growth', () => {
  const d = new Deque<Item>();
  const all: Item[] = [];
  for (let i = 0; i < 100; i++) {
    const it = item(String(i));
    all.push(it);
    if (i % 2) d.pushBack(it);
    else d.pushFront(it);
  }
  for (let i = 0; i < 100; i += 3) {
    assert.ok(d.holds(all[i]!));
    d.remove(all[i]!);
    assert.ok(!d.holds(all[i]!));
  }
  const expected: string[] = [];
  for (let i = 98; i >= 0; i -= 2) if (i % 3) expected.push(String(i));
  for (let i = 1; i < 100; i += 2) if (i % 3) expected.push(String(i));
  assert.deepEqual(names(d), expected);
  assert.equal(d.size, expected.length);
  const popped: string[] = [];
  for (let x = d.popFront(); x !== null; x = d.popFront()) popped.push(x.name);
  assert.deepEqual(popped, expected);
});

test('deque: holes are squeezed out when they outnumber the items', () => {
  const d = new Deque<Item>();
  const all = Array.from({ length: 1000 }, (_, i) => item(String(i)));
  for (const it of all) d.pushBack(it);
  for (let i = 0; i < 990; i++) d.remove(all[i]!);
  assert.equal(d.size, 10);
  assert.deepEqual(names(d), all.slice(990).map((x) => x.name));
  for (const it of all.slice(990)) assert.ok(d.holds(it));
});

test('ready queue: higher priority first, FIFO within a priority, lifo ahead (newest first)', () => {
  const r = new ReadyQueue<Item>();
  r.push(item('p0-a'), 0, false);
  r.push(item('p5-a'), 5, false);
  r.push(item('p0-b'), 0, false);
  r.push(item('p0-lifo1'), 0, true);
  r.push(item('p-3'), -3, false);
  r.push(item('p0-lifo2'), 0, true);
  r.push(item('p5-b'), 5, false);
  const out: string[] = [];
  for (let x = r.pop(); x !== null; x = r.pop()) out.push(x.name);
  assert.deepEqual(out, ['p5-a', 'p5-b', 'p0-lifo2', 'p0-lifo1', 'p0-a', 'p0-b', 'p-3']);
  assert.equal(r.size, 0);
});

test('ready queue: removing every item of the top priority lets the next priority through', () => {
  const r = new ReadyQueue<Item>();
  const hi = item('hi');
  r.push(hi, 9, false);
  r.push(item('lo'), 1, false);
  r.remove(hi, 9);
  assert.equal(r.size, 1);
  assert.equal(r.peek()!.name, 'lo');
  assert.equal(r.pop()!.name, 'lo');
  assert.equal(r.pop(), null);
  r.push(item('again'), 9, false);
  assert.equal(r.pop()!.name, 'again');
});

test('delay heap: entries come out by time, equal times in insertion order, stale ones skipped', () => {
  const live = new Set<string>(['a', 'b', 'c', 'd']);
  const h = new DelayHeap<string>((_, x) => live.has(x));
  h.push(30, 'c');
  h.push(10, 'a');
  h.push(20, 'b');
  h.push(10, 'd');
  live.delete('b');
  h.forget();
  assert.equal(h.nextTime(), 10);
  assert.equal(h.popDue(5), undefined);
  assert.equal(h.popDue(25), 'a');
  assert.equal(h.popDue(25), 'd');
  assert.equal(h.popDue(25), undefined); // b was stale
  assert.equal(h.nextTime(), 30);
  assert.equal(h.popDue(30), 'c');
  assert.equal(h.nextTime(), Infinity);
});

test('delay heap: compaction keeps only current entries and their order', () => {
  const live = new Set<number>();
  const h = new DelayHeap<number>((_, x) => live.has(x));
  for (let i = 0; i < 5000; i++) {
    h.push(5000 - i, i);
    live.add(i);
  }
  for (let i = 0; i < 5000; i++) {
    if (i % 4 === 0) continue;
    live.delete(i);
    h.forget();
  }
  assert.ok(h.size < 5000, 'compacted');
  const out: number[] = [];
  for (let x = h.popDue(Infinity); x !== undefined; x = h.popDue(Infinity)) out.push(x);
  const expected = [...live].sort((a, b) => b - a);
  assert.deepEqual(out, expected);
});

test('job table: lookups by sequence survive thinning of old pages', () => {
  const t = new JobTable<string>();
  for (let s = 1; s <= 5000; s++) t.set(s, `j${s}`);
  for (let s = 1; s <= 4000; s++) if (s % 100 !== 0) t.delete(s);
  assert.equal(t.size, 40 + 1000);
  for (let s = 100; s <= 4000; s += 100) assert.equal(t.get(s), `j${s}`);
  assert.equal(t.get(101), undefined);
  assert.equal(t.get(4500), 'j4500');
  t.delete(200);
  assert.equal(t.get(200), undefined);
  assert.equal([...t.values()].length, t.size);
});

test('token bucket: starts full, refills N per second, never above N', () => {
  const b = new TokenBucket(2, 0);
  assert.equal(b.available(0), 2);
  b.take(2);
  assert.equal(b.available(499), 0);
  assert.equal(b.nextTokenTime(), 500);
  assert.equal(b.available(500), 1);
  assert.equal(b.available(10_000), 2);
});

test('retention: keeps the newest `limit` entries, evicting the oldest first', () => {
  const r = new Retention<Item>(2);
  const a = item('a');
  const b = item('b');
  const c = item('c');
  r.add(a);
  r.add(b);
  assert.equal(r.over(), false);
  r.add(c);
  assert.equal(r.over(), true);
  assert.equal(r.evictOne(), a);
  r.remove(b);
  assert.deepEqual(names(r), ['c']);
});
