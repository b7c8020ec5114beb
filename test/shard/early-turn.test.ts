import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InlineLink } from '../../src/front/inline-link.js';
import type { ShardOutput } from '../../src/front/shard-link.js';
import { Format } from '../../src/protocol/result.js';
import { Kind } from '../../src/ring/kinds.js';
import { EARLY_TURN_BYTES } from '../../src/shard/shard.js';

const OPTS = { index: 0, count: 1, keepCompleted: 1000, maxQueues: 100, maxBatch: 1000 };

function recorder(): { out: ShardOutput; log: string[] } {
  const log: string[] = [];
  const out: ShardOutput = {
    answer: (_conn, seq) => log.push(`answer ${seq}`),
    event: () => {},
    shardMsg: () => {},
    control: () => {},
    turnDone: () => log.push('turn'),
  };
  return { out, log };
}

function pushb(jobs: number, pad: number): Buffer {
  const list = Array.from({ length: jobs }, (_, i) => ({ data: { i, pad: 'x'.repeat(pad) } }));
  return Buffer.from(JSON.stringify({ cmd: 'PUSHB', queue: 'early', jobs: list }));
}

test('a request of EARLY_TURN_BYTES or more is answered before the next request of the same read is handled', () => {
  const { out, log } = recorder();
  const link = new InlineLink(0, OPTS, out);
  const big = pushb(100, Math.ceil(EARLY_TURN_BYTES / 100));
  assert.ok(big.length >= EARLY_TURN_BYTES);
  link.add(Kind.REQUEST, Format.TcpJson, 1, 0, big);
  assert.deepEqual(log, ['answer 0', 'turn'], 'answered at once');
  link.add(Kind.REQUEST, Format.TcpJson, 1, 1, big);
  assert.deepEqual(log, ['answer 0', 'turn', 'answer 1', 'turn']);
  link.flush(); // the dispatcher's end of the read: nothing left to answer
  assert.equal(log.length, 4);
});

test('small requests share one turn until the dispatcher flushes', () => {
  const { out, log } = recorder();
  const link = new InlineLink(0, OPTS, out);
  for (let seq = 0; seq < 3; seq++) link.add(Kind.REQUEST, Format.TcpJson, 1, seq, pushb(2, 10));
  assert.deepEqual(log, []);
  link.flush();
  assert.deepEqual(log, ['answer 0', 'answer 1', 'answer 2', 'turn']);
});
