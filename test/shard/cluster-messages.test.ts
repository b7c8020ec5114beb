import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InlineLink } from '../../src/front/inline-link.js';
import type { ShardOutput } from '../../src/front/shard-link.js';
import { partitionOf } from '../../src/engine/partition.js';
import { PARTITIONS } from '../../src/engine/types.js';
import { Format } from '../../src/protocol/result.js';
import { Kind } from '../../src/ring/kinds.js';
import { ALL_PARTITIONS, encodeControl, type ControlMessage, type ShardMessage } from '../../src/shard/messages.js';

/** A cluster shard (0 of 1, no store) whose messages and answers are collected. */
function clusterShard() {
  const sent: Array<{ target: number; msg: ShardMessage }> = [];
  const answers: string[] = [];
  const reports: ControlMessage[] = [];
  const output: ShardOutput = {
    answer: (_conn, _seq, _code, bytes) => answers.push(Buffer.from(bytes).toString('utf8').trim()),
    event: () => {},
    shardMsg: (target, json) => sent.push({ target, msg: JSON.parse(json) as ShardMessage }),
    control: (_s, msg) => reports.push(msg),
    turnDone: () => {},
  };
  const opts = { index: 0, count: 1, keepCompleted: 100, maxQueues: 100, maxBatch: 1000, cluster: { nodeId: 'n1', idleMs: 600_000 } };
  const link = new InlineLink(0, opts, output);
  const control = (msg: ControlMessage) => {
    link.add(Kind.CONTROL, Format.Internal, 0, 0, encodeControl(msg));
    link.flush();
  };
  const message = (msg: ShardMessage) => {
    link.add(Kind.SHARD_MSG, Format.Internal, 0, 0, JSON.stringify(msg));
    link.flush();
  };
  return { link, sent, answers, reports, control, message };
}

const QUEUE = 'orders';
const P = partitionOf(QUEUE);
/** a partition this shard does not serve, and a parent id in it */
const R = (P + 1) % PARTITIONS;
const PARENT = 5 * PARTITIONS + R;

describe('a cluster shard and the shard messages of partitions it does not serve', () => {
  it('a gain asks every shard of every node to watch again the parents in the gained partitions', () => {
    const s = clusterShard();
    s.control({ op: 'gain', partitions: [P], epochs: [1] });
    assert.deepEqual(s.sent, [{ target: ALL_PARTITIONS, msg: { t: 'rewatch', partitions: [P] } }]);
  });

  it('a watch, an answer or an outcome for a partition not served here goes back to the front by partition, unanswered', () => {
    const s = clusterShard();
    s.control({ op: 'gain', partitions: [P], epochs: [1] });
    s.sent.length = 0;
    const watch: ShardMessage = { t: 'watch', parent: PARENT, partition: P };
    s.message(watch);
    const dep: ShardMessage = { t: 'dep', parent: 7, partition: R, outcome: 'failed' };
    s.message(dep);
    const watched: ShardMessage = { t: 'watched', parent: 7, partition: R, status: 'completed' };
    s.message(watched);
    assert.deepEqual(s.sent, [
      { target: R, msg: watch },
      { target: R, msg: dep },
      { target: R, msg: watched },
    ]);
  });

  it('a push waiting for a remote parent is answered "not served" when its partition is lost', async () => {
    const s = clusterShard();
    s.control({ op: 'gain', partitions: [P], epochs: [1] });
    s.sent.length = 0;
    s.link.add(Kind.REQUEST, Format.TcpJson, 1, 1, JSON.stringify({ cmd: 'PUSH', queue: QUEUE, data: {}, depends_on: [PARENT] }));
    s.link.flush();
    assert.deepEqual(s.sent, [{ target: R, msg: { t: 'watch', parent: PARENT, partition: P } }]);
    assert.equal(s.answers.length, 0);
    s.control({ op: 'lose', partitions: [P] });
    assert.equal(s.answers.length, 1);
    assert.match(s.answers[0]!, new RegExp(`"ok":false.*Partition ${P} is not served`));
    // the parent's answer that comes later finds nothing to complete
    s.message({ t: 'watched', parent: PARENT, partition: P, status: 'pending' });
    assert.equal(s.answers.length, 1);
    await s.link.close();
  });
});
