import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingChannel, RingOverflowError } from '../../src/ring/channel.js';
import { SpscRing } from '../../src/ring/spsc-ring.js';
import { prng } from '../helpers/prng.js';

/** Both ends in one thread; pings are counted and delivered by hand, so every step is explicit. */
function pair(capacity: number, options = {}) {
  const sab = SpscRing.create(capacity);
  const pings = { data: 0, space: 0 };
  const producer = new RingChannel(sab, () => pings.data++, options);
  const consumer = new RingChannel(sab, () => pings.space++, options);
  return { producer, consumer, pings };
}

function frame(id: number, len: number): Uint8Array {
  return new Uint8Array(len).fill(id & 255);
}

test('a sleeping consumer gets one data ping per sleep, however many frames arrive', () => {
  const { producer, consumer, pings } = pair(1024);
  assert.ok(producer.send(frame(1, 10)));
  assert.ok(producer.send(frame(2, 10)));
  assert.equal(pings.data, 1, 'the consumer starts asleep: first frame pings, second does not');
  const got: number[] = [];
  assert.equal(consumer.drain((f) => got.push(f[0]!)), true);
  assert.deepEqual(got, [1, 2]);
  assert.ok(producer.send(frame(3, 10)));
  assert.equal(pings.data, 2);
});

test('a full ring queues frames, says "pause", and calls onDrain once the consumer frees space', () => {
  const { producer, consumer, pings } = pair(256);
  let drained = 0;
  producer.onDrain = () => drained++;
  const sent: number[] = [];
  let id = 0;
  while (producer.send(frame(id, 60))) sent.push(id++);
  sent.push(id++); // the one that returned false is queued, not lost
  assert.equal(producer.writable, false);
  assert.equal(producer.pendingBytes, 60);
  assert.equal(producer.send(frame(id, 60)), false, 'later frames queue behind it, in order');
  sent.push(id++);
  const got: number[] = [];
  assert.equal(consumer.drain((f) => got.push(f[0]!)), true);
  assert.equal(pings.space, 1, 'the consumer told the blocked producer once');
  assert.equal(drained, 0);
  producer.onSpace();
  assert.equal(drained, 1);
  assert.equal(producer.writable, true);
  assert.equal(producer.pendingBytes, 0);
  consumer.drain((f) => got.push(f[0]!));
  assert.deepEqual(got, sent);
  producer.onSpace(); // a spare ping is harmless
  assert.equal(drained, 1);
});

test('the pending list is bounded: ignoring back-pressure throws instead of buffering forever', () => {
  const { producer } = pair(256, { maxPendingBytes: 200 });
  while (producer.send(frame(0, 60)));
  producer.send(frame(0, 60));
  producer.send(frame(0, 60));
  assert.equal(producer.pendingBytes, 180);
  assert.throws(() => producer.send(frame(0, 60)), RingOverflowError);
  assert.throws(() => producer.send(new Uint8Array(125)), RangeError);
});

test('a frame copied into the pending list is independent of the caller\'s buffer', () => {
  const { producer, consumer } = pair(128);
  const buf = Buffer.alloc(60); // a Buffer, like FrameBuilder.finish(): its slice() is a view, not a copy
  assert.ok(producer.send(buf.fill(1)));
  assert.ok(producer.send(buf.fill(2)));
  assert.equal(producer.send(buf.fill(3)), false);
  buf.fill(4); // the caller reuses its builder right away
  const got: number[] = [];
  consumer.drain((f) => got.push(f[0]!));
  producer.onSpace();
  consumer.drain((f) => got.push(f[0]!));
  assert.deepEqual(got, [1, 2, 3]);
});

test('drain stops at its byte budget without going idle, and resumes where it stopped', () => {
  const { producer, consumer, pings } = pair(4096, { drainBudgetBytes: 300 });
  for (let i = 0; i < 10; i++) assert.ok(producer.send(frame(i, 100)));
  const got: number[] = [];
  assert.equal(consumer.drain((f) => got.push(f[0]!)), false);
  assert.deepEqual(got, [0, 1, 2]);
  producer.send(frame(10, 100));
  assert.equal(pings.data, 1, 'a consumer that stopped early is not asleep: no ping');
  while (!consumer.drain((f) => got.push(f[0]!)));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('a paused consumer stops before the next frame and does not sleep', () => {
  const { producer, consumer } = pair(4096);
  for (let i = 0; i < 5; i++) producer.send(frame(i, 10));
  const got: number[] = [];
  assert.equal(
    consumer.drain((f) => {
      got.push(f[0]!);
      if (f[0] === 1) consumer.paused = true;
    }),
    false,
  );
  assert.deepEqual(got, [0, 1]);
  consumer.paused = false;
  assert.equal(consumer.drain((f) => got.push(f[0]!)), true);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

for (const seed of [11, 12, 13, 14]) {
  test(`no wake-up is ever lost, whatever the order pings arrive in (simulation, seed ${seed})`, () => {
    const rnd = prng(seed);
    const capacity = 256;
    const sab = SpscRing.create(capacity);
    let dataPings = 0;
    let spacePings = 0;
    let consumerScheduled = false; // what setImmediate would do after drain returned false
    const producer = new RingChannel(sab, () => dataPings++, { maxPendingBytes: 1000 });
    const consumer = new RingChannel(sab, () => spacePings++, { drainBudgetBytes: 200 });
    const sent: number[] = [];
    const got: number[] = [];
    const handler = (f: Uint8Array) => {
      got.push(f.length === 0 ? -1 : f[0]!);
      if (rnd() < 0.1) consumer.paused = true;
    };
    const runConsumer = () => {
      consumer.paused = false;
      consumerScheduled = !consumer.drain(handler);
    };
    let id = 0;
    const step = (allowSend: boolean) => {
      const x = rnd();
      if (x < 0.4 && allowSend) {
        const len = 1 + Math.floor(rnd() ** 2 * producer.maxFrame);
        if (producer.pendingBytes + len <= 1000) {
          producer.send(frame(id, len));
          sent.push(id++ & 255);
        }
      } else if (x < 0.6 && dataPings > 0) {
        dataPings--;
        if (!consumerScheduled) runConsumer();
      } else if (x < 0.8 && consumerScheduled) {
        runConsumer();
      } else if (spacePings > 0) {
        spacePings--;
        producer.onSpace();
      }
    };
    for (let i = 0; i < 100_000; i++) step(true);
    // Quiesce: deliver whatever is in flight. A lost wake-up shows as work left with nothing in flight.
    for (let i = 0; dataPings + spacePings > 0 || consumerScheduled; i++) {
      assert.ok(i < 1_000_000, 'did not settle');
      step(false);
    }
    assert.equal(producer.pendingBytes, 0, 'frames stranded in the pending list: a space ping was lost');
    assert.equal(got.length, sent.length, 'frames stranded in the ring: a data ping was lost');
    assert.deepEqual(got, sent);
    assert.ok(sent.length > 20_000);
  });
}
