import { Worker } from 'node:worker_threads';
import { FrameBuilder, FrameReader } from '../ring/records.js';
import { RingLink, createLink } from '../ring/link.js';
import { Kind } from '../ring/kinds.js';
import { Format } from '../protocol/result.js';
import { decodeControl, encodeControl, type WorkerNotice } from '../shard/messages.js';
import type { ShardOptions, ShardWorkerData } from '../shard/start.js';
import type { ShardLink, ShardOutput } from './shard-link.js';

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
  /** settles `ready` when the worker reports how its start went */
  private started: { resolve: () => void; reject: (e: Error) => void } | null = null;
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
      this.started = { resolve, reject };
      this.worker.once('error', reject);
      this.exited.then((code) => reject(new Error(`shard ${index} exited with ${code} during start`)));
    });
    // Sockets pause on the first refused frame, but every connection may still hand over the chunk
    // it already read (and HTTP/gRPC do not pause): room for that above the ring, still bounded.
    this.link = new RingLink(front, (frame) => this.onFrame(frame), { maxPendingBytes: FRONT_PENDING_BYTES });
    this.worker.on('message', (m: WorkerNotice) => this.onNotice(m));
    this.link.onDrain = () => this.onDrain?.();
  }

  private onNotice(m: WorkerNotice): void {
    switch (m.t) {
      case 'answer':
        this.output.answer(m.conn, m.seq, m.code, m.bytes);
        this.output.turnDone();
        break;
      case 'ready':
        this.started?.resolve();
        this.started = null;
        break;
      case 'failed':
        this.started?.reject(new Error(m.error || `shard ${this.index} failed to start`));
        this.started = null;
        break;
      default:
        m satisfies never;
    }
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
          out.event(r.format, r.bytes, r.start, r.end, r.start + r.conn, r.start + r.seq);
          break;
        case Kind.SHARD_MSG:
          out.shardMsg(r.conn, r.text());
          break;
        case Kind.CONTROL:
          out.control(this.index, decodeControl(r.text()));
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
    this.builder.add(Kind.CONTROL, Format.Internal, 0, 0, 0, encodeControl({ op: 'stop' }));
    this.flush();
    const code = await Promise.race([this.exited, new Promise<number>((r) => setTimeout(() => r(-1), 10_000).unref())]);
    if (code === -1) await this.worker.terminate();
    this.link.close();
  }
}
