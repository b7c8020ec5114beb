import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobIdOf, partitionOf, partitionOfId, seqOfId } from '../../src/engine/partition.js';
import { isValidName, validateQueueName } from '../../src/engine/names.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { T0, engine, push, throwsFlashq } from './helpers.js';

/** Reference FNV-1a over bytes, written independently of the engine's version. */
function fnv1aBytes(bytes: Uint8Array): number {
  let h = 2166136261n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 16777619n) & 0xffffffffn;
  }
  return Number(h);
}

test('the partition of a queue is FNV-1a 32-bit of its bytes mod 256', () => {
  // well-known FNV-1a 32-bit values
  assert.equal(partitionOf(''), 0x811c9dc5 % PARTITIONS);
  assert.equal(partitionOf('a'), 0xe40c292c % PARTITIONS);
  assert.equal(partitionOf('foobar'), 0xbf9cf968 % PARTITIONS);
  for (const name of ['emails', 'default', 'q-1.x_y', 'Z'.repeat(256)]) {
    assert.equal(partitionOf(name), fnv1aBytes(Buffer.from(name, 'ascii')) % PARTITIONS);
  }
});

test('a job id is seq * 256 + partition, and both come back out of it', () => {
  assert.equal(jobIdOf(1, 0), 256);
  assert.equal(jobIdOf(3, 17), 3 * 256 + 17);
  const big = jobIdOf(2 ** 40, 255);
  assert.equal(partitionOfId(big), 255);
  assert.equal(seqOfId(big), 2 ** 40);
});

test('push assigns ids from a per-partition sequence starting at 1', () => {
  const e = engine();
  const p = partitionOf('emails');
  assert.equal(push(e, 'emails'), jobIdOf(1, p));
  assert.equal(push(e, 'emails'), jobIdOf(2, p));
  // another queue in another partition has its own sequence
  const other = ['a', 'b', 'c', 'd'].find((n) => partitionOf(n) !== p)!;
  assert.equal(push(e, other), jobIdOf(1, partitionOf(other)));
});

test('queue names are 1..256 letters, digits, _, - and .', () => {
  for (const ok of ['a', 'A-z_0.9', 'x'.repeat(256)]) assert.ok(isValidName(ok));
  for (const bad of ['', 'x'.repeat(257), 'a b', 'a/b', 'é', 'a:b']) assert.ok(!isValidName(bad));
  throwsFlashq(() => validateQueueName('a b'), 'Invalid queue name: "a b"');
  throwsFlashq(() => validateQueueName(''), 'Invalid queue name: ""');
});

test('push to an invalid queue name changes nothing', () => {
  const e = engine();
  throwsFlashq(() => e.push('bad name', [], T0), 'Invalid queue name: "bad name"');
  assert.deepEqual(e.listQueues(), []);
  throwsFlashq(() => e.pause('bad/name'), 'Invalid queue name: "bad/name"');
});
