import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Shard } from '../../src/shard/shard.js';
import type { Outbox } from '../../src/shard/outbox.js';
import { Format } from '../../src/protocol/result.js';
import { EVENT_TYPES } from '../../src/events/catalogue.js';

/** A shard whose output is collected as it leaves (answers and event batches). */
function shard(): { core: Shard; events: Array<{ event_type: string; queue: string }> } {
  const events: Array<{ event_type: string; queue: string }> = [];
  const out: Outbox = {
    answer: () => {},
    event: (type, qs, qe, json) => {
      const ev = JSON.parse(json) as { event_type: string; queue: string };
      // the header's type and queue span agree with the JSON
      assert.equal(EVENT_TYPES[type], ev.event_type);
      assert.equal(json.slice(qs, qe), ev.queue);
      events.push(ev);
    },
    shardMsg: () => {},
    control: () => {},
    flush: () => {},
  };
  const core = new Shard({ index: 0, count: 1, keepCompleted: 100, maxQueues: 100, maxBatch: 1000 }, out, null, () => 1_000);
  return { core, events };
}

const push = (core: Shard, queue: string, seq: number) =>
  core.request(1, seq, Format.TcpJson, Buffer.from(JSON.stringify({ cmd: 'PUSH', queue, data: { n: seq } })));

describe('shard events', () => {
  it('produces no events while nobody listens', async () => {
    const { core, events } = shard();
    push(core, 'a', 1);
    core.endTurn();
    assert.deepEqual(events, []);
    await core.close();
  });

  it('produces events only for the queues someone listens to', async () => {
    const { core, events } = shard();
    core.control({ op: 'events', on: true, queues: ['a'] });
    push(core, 'a', 1);
    push(core, 'b', 2);
    core.endTurn();
    assert.deepEqual(events.map((e) => [e.event_type, e.queue]), [['job.pushed', 'a']]);
    core.control({ op: 'events', on: true, queues: null });
    push(core, 'b', 3);
    core.endTurn();
    assert.deepEqual(events.map((e) => e.queue), ['a', 'b'], 'null = every queue');
    await core.close();
  });
});
