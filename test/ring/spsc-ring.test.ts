import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpscRing, recordBytes } from '../../src/ring/spsc-ring.js';
import { prng } from '../helpers/prng.js';

function pattern(id: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (id * 31 + i * 7) & 255;
  return b;
}

function ring(capacity: number, startAt = 0): SpscRing {
  return new SpscRing(SpscRing.create(capacity, startAt));
}

for (const [capacity, startAt, seed] of [
  [64, 0, 1],
  [256, 0, 2],
  [1024, 0, 3],
  [256, 2 ** 32 - 200, 4], // counters wrap past 2^32 within the run
  [4096, 2 ** 31 - 64, 5], // and through the int32 sign boundary
] as const) {
  test(`frames of random sizes come out whole, in order, byte for byte (capacity ${capacity}, start ${startAt}, seed ${seed})`, () => {
    const rnd = prng(seed);
    const r = ring(capacity, startAt);
    const expected: Uint8Array[] = [];
    const src = new Uint8Array(capacity);
    let nextId = 0;
    let written = 0;
    let read = 0;
    for (let op = 0; op < 200_000; op++) {
      if (rnd() < 0.55) {
        // Sizes biased small, with the occasional frame right at the limit.
        const len = rnd() < 0.05 ? r.maxFrame : Math.floor(rnd() ** 3 * (r.maxFrame + 1));
        const frame = pattern(nextId, len);
        const how = rnd();
        let ok: boolean;
        if (how < 0.4) {
          ok = r.tryWrite(frame);
        } else if (how < 0.7) {
          const off = Math.floor(rnd() * (capacity - len + 1));
          src.set(frame, off);
          ok = r.tryWrite(src, off, off + len);
        } else {
          // reserve more than needed, then commit the real length
          const slack = Math.min(r.maxFrame - len, Math.floor(rnd() * 16));
          const view = r.reserve(len + slack);
          ok = view !== null;
          if (view) {
            view.set(frame);
            r.commit(len);
          }
        }
        if (ok) {
          expected.push(frame);
          nextId++;
          written++;
        } else if (expected.length === 0) {
          // Only the frame last read (its view may still be in use) occupies the ring.
          r.release();
          assert.ok(r.tryWrite(frame), 'an empty ring must accept any frame up to maxFrame');
          expected.push(frame);
          nextId++;
          written++;
        }
      } else {
        const got = rnd() < 0.2 ? r.readCopy() : r.read();
        const want = expected.shift();
        if (want === undefined) {
          assert.equal(got, null);
        } else {
          assert.ok(got, `frame ${read} missing`);
          assert.deepEqual(got, want, `frame ${read} differs`);
          read++;
        }
      }
    }
    for (let f = r.read(); f !== null; f = r.read()) assert.deepEqual(f, expected.shift());
    assert.equal(expected.length, 0);
    assert.ok(written > 10_000, `only ${written} frames went through`);
  });
}

test('a full ring refuses a frame, then accepts it once the consumer has read', () => {
  const r = ring(256);
  const frame = pattern(1, 60); // 64 bytes in the ring
  let n = 0;
  while (r.tryWrite(frame)) n++;
  assert.equal(n, 4);
  assert.equal(r.usedBytes(), 256);
  assert.equal(r.reserve(0), null);
  assert.deepEqual(r.read(), frame);
  // The frame handed out is still being looked at: its space is not free yet.
  assert.equal(r.tryWrite(frame), false);
  r.release();
  assert.equal(r.tryWrite(frame), true);
  for (let i = 0; i < 4; i++) assert.deepEqual(r.read(), frame);
  assert.equal(r.read(), null);
});

test('a read view keeps its bytes until the next read releases them', () => {
  const r = ring(64); // maxFrame 28: two frames fill it
  assert.ok(r.tryWrite(pattern(1, 28)));
  assert.ok(r.tryWrite(pattern(2, 28)));
  const a = r.read()!;
  assert.equal(r.tryWrite(pattern(3, 28)), false);
  assert.deepEqual(a, pattern(1, 28));
  assert.deepEqual(r.read(), pattern(2, 28));
  assert.ok(r.tryWrite(pattern(3, 28)), 'the first frame was released by the second read');
});

test('a frame larger than maxFrame throws at once; maxFrame fits an empty ring at every position', () => {
  const r = ring(128);
  assert.equal(r.maxFrame, 60);
  assert.throws(() => r.tryWrite(new Uint8Array(61)), RangeError);
  assert.throws(() => r.reserve(61), RangeError);
  assert.throws(() => r.tryWrite(new Uint8Array(1000)), /exceeds/);
  for (let shift = 0; shift < 128; shift += 4) {
    const s = ring(128, shift);
    assert.ok(s.tryWrite(pattern(shift, 60)), `start ${shift}`);
    assert.deepEqual(s.read(), pattern(shift, 60));
  }
});

test('an empty frame is a frame', () => {
  const r = ring(64);
  assert.ok(r.tryWrite(new Uint8Array(0)));
  assert.equal(r.read()?.length, 0);
  assert.equal(r.read(), null);
  assert.equal(recordBytes(0), 4);
});

test('commit may shorten a reservation but not lengthen it, and needs one', () => {
  const r = ring(64);
  assert.throws(() => r.commit(), /without reserve/);
  const v = r.reserve(10)!;
  v.set([1, 2, 3]);
  assert.throws(() => r.commit(11), RangeError);
  r.commit(3);
  assert.deepEqual(r.read(), new Uint8Array([1, 2, 3]));
  r.reserve(5);
  r.tryWrite(new Uint8Array([9])); // abandons the reservation
  assert.throws(() => r.commit(), /without reserve/);
  assert.deepEqual(r.read(), new Uint8Array([9]));
});

test('idle handshake: a sleeping consumer is woken exactly once; a busy one never', () => {
  const r = ring(256);
  assert.equal(r.markIdle(), true);
  assert.ok(r.tryWrite(pattern(1, 8)));
  assert.equal(r.needsWake(), true);
  assert.ok(r.tryWrite(pattern(2, 8)));
  assert.equal(r.needsWake(), false, 'one ping per sleep');
  assert.ok(r.read());
  assert.equal(r.markIdle(), false, 'a frame is still there: keep draining');
  assert.ok(r.tryWrite(pattern(3, 8)));
  assert.equal(r.needsWake(), false, 'the consumer withdrew its idle flag');
  assert.ok(r.read());
  assert.ok(r.read());
  assert.equal(r.read(), null);
  assert.equal(r.markIdle(), true);
  assert.ok(r.tryWrite(pattern(4, 8)));
  assert.equal(r.needsWake(), true);
});

test('blocked handshake: the producer is pinged once the space it asked for is free', () => {
  const r = ring(256);
  const f = pattern(1, 60);
  while (r.tryWrite(f));
  r.markBlocked(128);
  assert.equal(r.spaceWakeDue(), false);
  r.read();
  r.read(); // releases the first
  assert.equal(r.spaceWakeDue(), false, 'only 64 bytes free');
  r.read(); // 128 free
  assert.equal(r.spaceWakeDue(), true);
  assert.equal(r.spaceWakeDue(), false, 'one ping per block');
  r.clearBlocked();
});

test('a ring needs a power-of-two capacity, and a buffer made by create', () => {
  assert.throws(() => SpscRing.create(100), RangeError);
  assert.throws(() => SpscRing.create(32), RangeError);
  assert.throws(() => new SpscRing(new SharedArrayBuffer(1024)), TypeError);
  const sab = SpscRing.create(1024);
  const producer = new SpscRing(sab);
  const consumer = new SpscRing(sab);
  assert.ok(producer.tryWrite(pattern(7, 100)));
  assert.deepEqual(consumer.read(), pattern(7, 100));
});
