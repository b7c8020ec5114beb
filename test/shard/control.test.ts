import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InlineLink } from '../../src/front/inline-link.js';
import type { ShardOutput } from '../../src/front/shard-link.js';
import { partitionOf } from '../../src/engine/partition.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { Format } from '../../src/protocol/result.js';
import { Kind } from '../../src/ring/kinds.js';
import { decodeControl, encodeControl, type ShardMessage } from '../../src/shard/messages.js';

/** An inline shard 0 of 2 whose messages to other shards are collected. */
function inlineShard(): { link: InlineLink; sent: Array<{ target: number; msg: ShardMessage }>; answers: string[] } {
  const sent: Array<{ target: number; msg: ShardMessage }> = [];
  const answers: string[] = [];
  const output: ShardOutput = {
    answer: (_conn, _seq, _code, bytes) => answers.push(Buffer.from(bytes).toString('utf8').trim()),
    event: () => {},
    shardMsg: (target, json) => sent.push({ target, msg: JSON.parse(json) as ShardMessage }),
    control: () => {},
    turnDone: () => {},
  };
  const link = new InlineLink(0, { index: 0, count: 2, keepCompleted: 100, maxQueues: 100, maxBatch: 1000 }, output);
  return { link, sent, answers };
}

/** A queue shard 0 of 2 owns. */
function queueOfShard0(): string {
  for (let i = 0; ; i++) if (partitionOf(`q${i}`) % 2 === 0) return `q${i}`;
}

describe('control messages', () => {
  it('an inline shard handles `rewatch` as a worker shard does: it asks the owners of remote parents again', async () => {
    const { link, sent, answers } = inlineShard();
    // id = seq * PARTITIONS + partition: partition 1 lives on shard 1
    const parent = 1 * PARTITIONS + 1;
    const queue = queueOfShard0();
    link.add(Kind.REQUEST, Format.TcpJson, 1, 1, JSON.stringify({ cmd: 'PUSH', queue, data: {}, depends_on: [parent] }));
    link.flush();
    // addressed to the parent's partition; the answer comes back to the child's
    assert.deepEqual(sent, [{ target: 1, msg: { t: 'watch', parent, partition: partitionOf(queue) } }]);
    link.add(Kind.SHARD_MSG, Format.Internal, 0, 0, JSON.stringify({ t: 'watched', parent, partition: partitionOf(queue), status: 'pending' }));
    link.flush();
    assert.equal(answers.length, 1);
    assert.match(answers[0]!, /"ok":true/);
    sent.length = 0;

    link.add(Kind.CONTROL, Format.Internal, 0, 0, encodeControl({ op: 'rewatch' }));
    link.flush();
    assert.deepEqual(sent, [{ target: 1, msg: { t: 'watch', parent, partition: 0 } }]);
    await link.close();
  });

  it('an inline shard stops on the same `stop` message a worker shard gets', async () => {
    const { link } = inlineShard();
    await link.close();
    assert.equal(link.core.stopRequested, true);
  });

  it('a control message that is not in the catalogue is refused with its text', () => {
    assert.deepEqual(decodeControl('{"op":"drain"}'), { op: 'drain' });
    assert.throws(() => decodeControl('{"op":"reboot"}'), /unknown control message: \{"op":"reboot"\}/);
    assert.throws(() => decodeControl('[]'), /unknown control message/);
  });
});
