import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, EVENT_COST } from '../../src/front/events.js';
import type { BusEvent, EventSink } from '../../src/events/catalogue.js';
import { sseFrame } from '../../src/front/http/sse.js';
import { webhookBody } from '../../src/webhooks/payload.js';
import { JsonWalk } from '../../src/protocol/json-walk.js';
import { waitFor } from '../helpers/server.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { eventTypeIndex } from '../../src/events/catalogue.js';
import { Kind } from '../../src/ring/kinds.js';
import { FrameBuilder, FrameReader } from '../../src/ring/records.js';
import { eventJson, eventQueueStart } from '../../src/shard/events-json.js';

/** What the client-facing JSON of an event holds (the test's independent view). */
interface Ev {
  event_type: EngineEvent['type'];
  queue: string;
  job_id: number;
  timestamp: number;
  data?: unknown;
  error?: string;
  progress?: number;
}

/**
 * One shard turn's events as they reach the bus: encoded as the shard encodes them, carried as
 * the worker's ring records, read back as WorkerLink reads them.
 */
function deliver(bus: EventBus, events: Ev[], rawData: Array<string | undefined> = []): void {
  const frame = new FrameBuilder(1024);
  events.forEach((e, i) => {
    const ev: EngineEvent = {
      type: e.event_type,
      queue: e.queue,
      jobId: e.job_id,
      timestamp: e.timestamp,
      data: rawData[i] ?? (e.data === undefined ? null : JSON.stringify(e.data)),
      error: e.error ?? null,
      progress: e.progress ?? null,
    };
    const qs = eventQueueStart(ev);
    frame.add(Kind.EVENT, eventTypeIndex(ev.type), 0, qs, qs + ev.queue.length, eventJson(ev));
  });
  const r = new FrameReader().reset(frame.finish());
  while (r.next()) bus.event(r.format, r.bytes, r.start, r.end, r.start + r.conn, r.start + r.seq);
  bus.endBatch();
}

/** A sink that keeps each event as (type, queue, parsed JSON). */
function collector(): EventSink & { got: Array<{ type: string; queue: string; json: any; sse: string; hook: any }> } {
  const got: Array<{ type: string; queue: string; json: any; sse: string; hook: any }> = [];
  return {
    got,
    event(ev: BusEvent) {
      const text = ev.buf.toString('utf8', ev.start, ev.end);
      got.push({ type: ev.type, queue: ev.queue, json: JSON.parse(text), sse: sseFrame(ev).toString('utf8'), hook: JSON.parse(webhookBody(ev, new JsonWalk()).toString('utf8')) });
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
  test('reads type and queue from the record header and passes each event JSON through whole', () => {
    const tricky: Ev[] = [
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
    deliver(bus, tricky);
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

  test('the queue span the shard puts in the header is the queue of the JSON, for every type', () => {
    const sink = collector();
    const { bus } = busWith(sink);
    const types: Array<Ev['event_type']> = ['job.pushed', 'job.started', 'job.completed', 'job.failed', 'job.progress'];
    const events: Ev[] = types.flatMap((t, i) => ['q', 'a-much-longer.queue_name:7'].map((queue, k) => ({ event_type: t, queue, job_id: 2 * i + k + 1, timestamp: i })));
    deliver(bus, events);
    assert.deepEqual(sink.got.map((g) => [g.type, g.queue]), events.map((e) => [e.event_type, e.queue]));
    assert.deepEqual(sink.got.map((g) => [g.json.event_type, g.json.queue]), events.map((e) => [e.event_type, e.queue]));
  });

  test('a pretty-printed payload becomes several SSE data lines that rejoin to the same JSON', () => {
    const sink = collector();
    const { bus } = busWith(sink);
    deliver(bus, [{ event_type: 'job.pushed', queue: 'q', job_id: 1, timestamp: 1 }], ['{\n  "a": 1\r\n}']);
    const frame = sink.got[0]!.sse;
    assert.equal(frame, 'event: job.pushed\ndata: {"event_type":"job.pushed","queue":"q","job_id":1,"timestamp":1,"data":{\ndata:   "a": 1\ndata: }}\n\n');
  });

  test('over the budget, the rest of the window is dropped and the shards are paused, then resumed', async () => {
    const sink = collector();
    const { bus, switches } = busWith(sink, 4 * (EVENT_COST + 1));
    const batch: Ev[] = Array.from({ length: 10 }, (_, i) => ({ event_type: 'job.pushed', queue: 'q', job_id: i + 1, timestamp: i }));
    deliver(bus, batch);
    assert.equal(sink.got.length, 4, 'a one-second window holds 4 events of this budget');
    assert.equal(bus.stats.dropped, 6);
    assert.equal(bus.shedding, true);
    assert.deepEqual(switches, [true, false]);
    await waitFor(() => !bus.shedding, 2000, 'the window to end');
    assert.deepEqual(switches, [true, false, true]);
    deliver(bus, batch.slice(0, 2));
    assert.equal(sink.got.length, 6);
    bus.close();
  });
});
