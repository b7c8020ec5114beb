import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, EVENT_COST, type BusEvent, type EventSink } from '../../src/front/events.js';
import { sseFrame } from '../../src/front/http/sse.js';
import { webhookBody } from '../../src/webhooks/payload.js';
import { waitFor } from '../helpers/server.js';

/** A sink that keeps each event as (type, queue, parsed JSON). */
function collector(): EventSink & { got: Array<{ type: string; queue: string; json: any; sse: string; hook: any }> } {
  const got: Array<{ type: string; queue: string; json: any; sse: string; hook: any }> = [];
  return {
    got,
    event(ev: BusEvent) {
      const text = ev.buf.toString('utf8', ev.start, ev.end);
      got.push({ type: ev.type, queue: ev.queue, json: JSON.parse(text), sse: sseFrame(ev).toString('utf8'), hook: JSON.parse(webhookBody(ev).toString('utf8')) });
      return 1;
    },
  };
}

function busWith(sink: EventSink, budget?: number): { bus: EventBus; switches: boolean[] } {
  const switches: boolean[] = [];
  const bus = new EventBus((on) => switches.push(on), budget);
  bus.addSink(sink);
  bus.retain();
  return { bus, switches };
}

describe('event bus', () => {
  test('splits a shard batch into events without being fooled by their payloads', () => {
    const tricky = [
      { event_type: 'job.pushed', queue: 'q1', job_id: 1, timestamp: 10, data: { s: 'a "quoted" },{"event_type":"job.failed"} \\ end' } },
      { event_type: 'job.completed', queue: 'q-2', job_id: 2, timestamp: 11, data: [{ a: 1 }, { event_type: 'job.pushed', queue: 'x' }] },
      { event_type: 'job.failed', queue: 'q.3', job_id: 3, timestamp: 12, error: 'line\nbreak "and" quotes' },
      { event_type: 'job.progress', queue: 'q_4', job_id: 4, timestamp: 13, progress: 50 },
      { event_type: 'job.started', queue: 'q5', job_id: 5, timestamp: 14, data: 'x'.repeat(100) + '\\"' + 'y'.repeat(50) },
      { event_type: 'job.pushed', queue: 'q6', job_id: 6, timestamp: 15, data: '\\'.repeat(41) },
    ];
    const sink = collector();
    const { bus, switches } = busWith(sink);
    assert.deepEqual(switches, [true]);
    bus.dispatch(Buffer.from(JSON.stringify(tricky)));
    assert.deepEqual(sink.got.map((g) => g.json), tricky);
    assert.deepEqual(sink.got.map((g) => [g.type, g.queue]), tricky.map((t) => [t.event_type, t.queue]));
    // SSE frames: one data line each (no raw newline in JSON), named after the type
    assert.equal(sink.got[2]!.sse, `event: job.failed\ndata: ${JSON.stringify(tricky[2])}\n\n`);
    // webhook bodies: the documented members, in order, null when absent
    assert.deepEqual(sink.got[0]!.hook, { event: 'job.pushed', queue: 'q1', job_id: 1, timestamp: 10, data: tricky[0]!.data, error: null });
    assert.deepEqual(sink.got[2]!.hook, { event: 'job.failed', queue: 'q.3', job_id: 3, timestamp: 12, data: null, error: tricky[2]!.error });
    assert.deepEqual(sink.got[3]!.hook.progress, 50);
    bus.release();
    assert.deepEqual(switches, [true, false]);
  });

  test('the shards are asked only for the queues somebody listens to', () => {
    const calls: Array<[boolean, readonly string[] | null]> = [];
    const bus = new EventBus((on, queues) => calls.push([on, queues]));
    let wanted: 'all' | Set<string> = new Set(['b', 'a']);
    bus.addSink({ event: () => 0, interest: () => wanted });
    bus.retain();
    assert.deepEqual(calls, [[true, ['a', 'b']]]);
    wanted = new Set(['a', 'b']);
    bus.interestChanged();
    assert.equal(calls.length, 1, 'same set: nothing sent');
    wanted = 'all';
    bus.interestChanged();
    assert.deepEqual(calls[1], [true, null]);
    bus.release();
    assert.deepEqual(calls[2]?.[0], false);
  });

  test('events written in another member order are still read', () => {
    const sink = collector();
    const { bus } = busWith(sink);
    bus.dispatch(Buffer.from('[ {"queue":"q","job_id":9,"timestamp":1,"event_type":"job.completed","data":null} ]'));
    assert.deepEqual(sink.got.map((g) => [g.type, g.queue, g.json.job_id]), [['job.completed', 'q', 9]]);
  });

  test('a pretty-printed payload becomes several SSE data lines that rejoin to the same JSON', () => {
    const sink = collector();
    const { bus } = busWith(sink);
    bus.dispatch(Buffer.from('[{"event_type":"job.pushed","queue":"q","job_id":1,"timestamp":1,"data":{\n  "a": 1\r\n}}]'));
    const frame = sink.got[0]!.sse;
    assert.equal(frame, 'event: job.pushed\ndata: {"event_type":"job.pushed","queue":"q","job_id":1,"timestamp":1,"data":{\ndata:   "a": 1\ndata: }}\n\n');
  });

  test('over the budget, the rest of the window is dropped and the shards are paused, then resumed', async () => {
    const sink = collector();
    const { bus, switches } = busWith(sink, 4 * (EVENT_COST + 1));
    const batch = Array.from({ length: 10 }, (_, i) => ({ event_type: 'job.pushed', queue: 'q', job_id: i + 1, timestamp: i }));
    bus.dispatch(Buffer.from(JSON.stringify(batch)));
    assert.equal(sink.got.length, 4, 'a one-second window holds 4 events of this budget');
    assert.equal(bus.stats.dropped, 6);
    assert.equal(bus.shedding, true);
    assert.deepEqual(switches, [true, false]);
    await waitFor(() => !bus.shedding, 2000, 'the window to end');
    assert.deepEqual(switches, [true, false, true]);
    bus.dispatch(Buffer.from(JSON.stringify(batch.slice(0, 2))));
    assert.equal(sink.got.length, 6);
    bus.close();
  });
});
