import { Worker } from 'node:worker_threads';
import { FrameBuilder, FrameReader } from '../ring/records.js';
import { RingLink, createLink } from '../ring/link.js';
import { Kind } from '../ring/kinds.js';
import type { Format } from '../protocol/result.js';
import type { ShardOptions } from '../shard/core.js';
import type { ShardStoreConfig } from '../store/shard-store.js';
import type { ShardLink, ShardOutput } from './shard-link.js';

/** What a shard worker is started with (structured-clonable). */
export interface ShardWorkerData {
  opts: ShardOptions;
  end: import('../ring/link.js').LinkEnd;
  store: ShardStoreConfig | null;
  logLevel: string;
}

const RING_BYTES = 16 << 20;
const FRONT_PENDING_BYTES = 256 << 20;

/** A shard on a worker thread: requests and answers cross a pair of SharedArrayBuffer rings. */
export class WorkerLink implements ShardLink {
  readonly worker: Worker;
  private readonly link: RingLink;
  private readonly builder = new FrameBuilder(256 * 1024);
  private readonly reader = new FrameReader();
  onDrain: (() => void) | null = null;
  private exited: Promise<number>;
  /** resolves when the shard reports `ready` (recovery done) */
  readonly ready: Promise<void>;

  constructor(
    readonly index: number,
    opts: ShardOptions,
    private readonly output: ShardOutput,
    store: ShardWorkerData['store'],
    logLevel: string,
  ) {
    const { front, shard } = createLink(RING_BYTES);
    const data: ShardWorkerData = { opts, end: shard, store, logLevel };
    this.worker = new Worker(new URL('../shard/worker.js', import.meta.url), {
      workerData: data,
      transferList: [shard.port],
    });
    this.exited = new Promise((res) => this.worker.once('exit', res));
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: unknown) => {
        const msg = m as { t?: string; error?: string };
        if (msg?.t === 'ready') {
          this.worker.off('message', onMsg);
          resolve();
        } else if (msg?.t === 'failed') {
          this.worker.off('message', onMsg);
          reject(new Error(msg.error ?? `shard ${index} failed to start`));
        }
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', reject);
      this.exited.then((code) => reject(new Error(`shard ${index} exited with ${code} during start`)));
    });
    // Sockets pause on the first refused frame, but every connection may still hand over the chunk
    // it already read (and HTTP/gRPC do not pause): room for that above the ring, still bounded.
    this.link = new RingLink(front, (frame) => this.onFrame(frame), { maxPendingBytes: FRONT_PENDING_BYTES });
    this.worker.on('message', (m: { t?: string; conn: number; seq: number; code: number; bytes: Uint8Array }) => {
      if (m?.t !== 'answer') return;
      this.output.answer(m.conn, m.seq, m.code, m.bytes);
      this.output.turnDone();
    });
    this.link.onDrain = () => this.onDrain?.();
  }

  private onFrame(frame: Uint8Array): void {
    const r = this.reader.reset(frame);
    const out = this.output;
    while (r.next()) {
      switch (r.kind) {
        case Kind.ANSWER:
          out.answer(r.conn, r.seq, r.code, r.bytes.subarray(r.start, r.end));
          break;
        case Kind.EVENT:
          out.events(r.text());
          break;
        case Kind.SHARD_MSG:
          out.shardMsg(r.conn, r.text());
          break;
        case Kind.CONTROL:
          out.control(this.index, r.text());
          break;
      }
    }
    out.turnDone();
  }

  add(kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void {
    this.builder.add(kind, format, 0, conn, seq, payload);
    // keep frames well under the ring's limit: a big PUSHB starts a frame of its own
    if (this.builder.byteLength > RING_BYTES / 8) this.flush();
  }

  flush(): boolean {
    if (this.builder.count === 0) return true;
    const ok = this.link.send(this.builder.finish());
    this.builder.reset();
    return ok;
  }

  async close(): Promise<void> {
    this.builder.add(Kind.CONTROL, 4, 0, 0, 0, '{"op":"stop"}');
    this.flush();
    const code = await Promise.race([this.exited, new Promise<number>((r) => setTimeout(() => r(-1), 10_000).unref())]);
    if (code === -1) await this.worker.terminate();
    this.link.close();
  }
}
