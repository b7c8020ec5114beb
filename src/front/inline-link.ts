import { Kind } from '../ring/kinds.js';
import { FrameBuilder, FrameReader } from '../ring/records.js';
import { Format } from '../protocol/result.js';
import { EARLY_TURN_BYTES, Shard } from '../shard/shard.js';
import { openShardStore, type ShardStore } from '../shard/durable.js';
import { decodeControl, encodeControl } from '../shard/messages.js';
import type { Outbox } from '../shard/outbox.js';
import type { ShardOptions, ShardWorkerData } from '../shard/start.js';
import type { ShardLink, ShardOutput } from './shard-link.js';

const decoder = new TextDecoder();

/**
 * SHARDS=0: the engine (and its store) runs on the front thread; records are handed to the core
 * directly. On small machines this saves the thread hop (BENCHMARKS.md, "shards").
 */
export class InlineLink implements ShardLink {
  readonly core: Shard;
  onDrain: (() => void) | null = null;
  private pending = false;
  /** request bytes handed to the core since its turn began */
  private turnBytes = 0;
  /** the turn's events, as the records a worker shard would send (one reused buffer, no copy each) */
  private readonly events = new FrameBuilder(16 * 1024);
  private readonly eventReader = new FrameReader();

  constructor(
    readonly index: number,
    opts: ShardOptions,
    output: ShardOutput,
    store: ShardStore | null = null,
  ) {
    const outbox: Outbox = {
      answer: (conn, seq, code, bytes) => output.answer(conn, seq, code, bytes),
      event: (type, qs, qe, json) => this.events.add(Kind.EVENT, type, 0, qs, qe, json),
      shardMsg: (target, json) => output.shardMsg(target, json),
      control: (msg) => output.control(index, msg),
      flush: () => {
        if (this.events.count > 0) {
          const r = this.eventReader.reset(this.events.finish());
          while (r.next()) output.event(r.format, r.bytes, r.start, r.end, r.start + r.conn, r.start + r.seq);
          this.events.reset();
        }
        output.turnDone();
      },
    };
    this.core = new Shard(opts, outbox, store);
  }

  /** The inline shard with its store opened and its state recovered (when persistence is on). */
  static async open(
    index: number,
    opts: ShardOptions,
    output: ShardOutput,
    storeCfg: ShardWorkerData['store'],
  ): Promise<InlineLink> {
    const store = storeCfg ? await openShardStore(opts, storeCfg) : null;
    const link = new InlineLink(index, opts, output, store);
    await link.core.recover();
    return link;
  }

  add(kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    this.pending = true;
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.turnBytes += bytes.length;
    switch (kind) {
      case Kind.REQUEST:
        this.core.request(conn, seq, format, bytes);
        if (this.turnBytes >= EARLY_TURN_BYTES) this.flush();
        break;
      case Kind.CONN_CLOSED:
        this.core.connClosed(conn);
        break;
      case Kind.SHARD_MSG:
        this.core.shardMessage(decoder.decode(bytes));
        break;
      case Kind.CONTROL:
        this.core.control(decodeControl(decoder.decode(bytes)));
        break;
    }
  }

  flush(): boolean {
    if (this.pending) {
      this.pending = false;
      this.turnBytes = 0;
      this.core.endTurn();
    }
    return true;
  }

  /** The same `stop` a worker shard gets: the turn it ends is answered and committed first. */
  async close(): Promise<void> {
    this.add(Kind.CONTROL, Format.Internal, 0, 0, encodeControl({ op: 'stop' }));
    this.flush();
    if (this.core.stopRequested) await this.core.close();
  }
}
