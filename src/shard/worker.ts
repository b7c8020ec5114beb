import { parentPort, workerData } from 'node:worker_threads';
import { FrameBuilder, FrameReader, RECORD_HEADER_BYTES } from '../ring/records.js';
import { RingLink } from '../ring/link.js';
import { Kind } from '../ring/kinds.js';
import type { Format } from '../protocol/result.js';
import { setLogLevel, type Level } from '../log.js';
import { EARLY_TURN_BYTES, Shard } from './shard.js';
import { openShardStore, type ShardStore } from './durable.js';
import { decodeControl, encodeControl, type WorkerNotice } from './messages.js';
import type { Outbox } from './outbox.js';
import type { ShardWorkerData } from './start.js';

/**
 * Worker-thread entry of a shard: drains requests from its inbound ring, one frame per turn, and
 * packs answers, events and messages of the turn into one outbound frame.
 */
const data = workerData as ShardWorkerData;
setLogLevel(data.logLevel as Level, { shard: data.opts.index });

const out = new FrameBuilder(256 * 1024);
const reader = new FrameReader();
let link: RingLink;

function notify(notice: WorkerNotice): void {
  parentPort!.postMessage(notice);
}

/** Largest frame the outbound ring takes (half its capacity); frames are flushed before it. */
let frameLimit = 1 << 20;

const outbox: Outbox = {
  answer: (conn, seq, code, bytes) => {
    const need = RECORD_HEADER_BYTES + bytes.length;
    if (need > frameLimit) {
      // an answer larger than any ring frame (PULLB of big jobs) travels by message; the front
      // orders answers by their sequence number, so it may overtake ring frames safely
      outbox.flush();
      notify({ t: 'answer', conn, seq, code, bytes });
      return;
    }
    if (out.byteLength + need > frameLimit) outbox.flush();
    out.add(Kind.ANSWER, 0, code, conn, seq, bytes);
  },
  // the header carries the event's type and where its queue sits: the front reads no JSON
  event: (type, qs, qe, json) => out.add(Kind.EVENT, type, 0, qs, qe, json),
  shardMsg: (target, json) => out.add(Kind.SHARD_MSG, 0, 0, target, 0, json),
  control: (msg) => out.add(Kind.CONTROL, 0, 0, 0, 0, encodeControl(msg)),
  flush: () => {
    if (out.count === 0) return;
    link.send(out.finish());
    out.reset();
  },
};

async function start(): Promise<void> {
  let store: ShardStore | null = null;
  if (data.store) store = await openShardStore(data.opts, data.store);
  const core = new Shard(data.opts, outbox, store);
  // The link exists before recovery so that what recovery sends can leave; frames that arrive
  // meanwhile (other shards' messages) wait, copied, until the engine holds the recovered state.
  let early: Uint8Array[] | null = [];
  link = new RingLink(
    data.end,
    (frame) => {
      if (early !== null) early.push(frame.slice());
      else onFrame(core, frame);
    },
    { holdInboundWhileBlocked: true },
  );
  await core.recover();
  const held = early;
  early = null;
  for (const frame of held) onFrame(core, frame);
  notify({ t: 'ready' });

  function onFrame(c: Shard, frame: Uint8Array): void {
    const r = reader.reset(frame);
    let turnBytes = 0;
    while (r.next()) {
      switch (r.kind) {
        case Kind.REQUEST:
          c.request(r.conn, r.seq, r.format as Format, r.bytes.subarray(r.start, r.end));
          // a big request ends the turn at once, so its answer is on its way while the rest of
          // the frame is parsed (see InlineLink.add)
          turnBytes += r.end - r.start;
          if (turnBytes >= EARLY_TURN_BYTES) {
            c.endTurn();
            turnBytes = 0;
          }
          break;
        case Kind.CONN_CLOSED:
          c.connClosed(r.conn);
          break;
        case Kind.SHARD_MSG:
          c.shardMessage(r.text());
          break;
        case Kind.CONTROL:
          c.control(decodeControl(r.text()));
          break;
      }
    }
    c.endTurn();
    if (c.stopRequested) {
      c.stopRequested = false;
      void c.close().then(() => {
        link.close();
        process.exit(0);
      });
    }
  }
}

start().catch((e: unknown) => {
  notify({ t: 'failed', error: (e as Error)?.message ?? String(e) });
  process.exit(1);
});
