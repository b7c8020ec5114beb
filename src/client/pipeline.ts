/**
 * The request side of a connection: which requests wait, which are on the wire, and which answer
 * belongs to which request.
 *
 * The server answers a connection's requests in order, so an answer belongs to the oldest request
 * not yet answered (or to its `reqId` when tagging is on). A request that times out is rejected but
 * keeps its slot until its late answer arrives, so later answers never shift onto the wrong request.
 * Frames produced in one tick leave in one socket write.
 */
import type { Socket } from 'node:net';
import { FlashqTimeoutError } from './errors.js';
import { Fifo } from './fifo.js';
import { encodeJson, encodeMsgpack, type Framing } from './framing.js';
import type { Answer, Command } from './types.js';

export interface PipelineOptions {
  framing: Framing;
  reqIds: boolean;
  maxInFlight: number;
  flush: 'microtask' | 'immediate';
}

/** frames at least this long (chars or bytes) are written alone rather than joined */
const LARGE_FRAME = 64 * 1024;

function joinFrames(run: (string | Buffer)[], bytes: number): string | Buffer {
  if (run.length === 1) return run[0]!;
  return typeof run[0] === 'string' ? (run as string[]).join('') : Buffer.concat(run as Buffer[], bytes);
}

interface Pending {
  cmd: Command;
  resolve: (a: Answer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
  timeoutMs: number;
  settled: boolean;
  answered: boolean;
  written: boolean;
  /** may wait on the server indefinitely (a PULL): close() does not wait for it */
  blocking: boolean;
  reqId: number;
}

export class Pipeline {
  /** the open socket; null while (re)connecting */
  private socket: Socket | null = null;
  /** written (or leaving this tick), awaiting answers, oldest first */
  private readonly inFlight = new Fifo<Pending>(1024);
  /** reqId → request, only when tagging */
  private readonly byReqId = new Map<number, Pending>();
  /** not yet written: over the in-flight bound, or while the socket is down */
  private readonly waiting = new Fifo<Pending>();
  private outbox: (string | Buffer)[] = [];
  private flushScheduled = false;
  private nextReqId = 0;
  private drainWaiter: (() => void) | null = null;

  constructor(
    private readonly opts: PipelineOptions,
    private readonly onUnmatched: (a: Answer) => void,
  ) {}

  /** Requests written and not yet answered (timed-out ones included until their answer arrives). */
  get pending(): number {
    return this.inFlight.length;
  }

  /** Requests not yet written. */
  get queued(): number {
    return this.waiting.length;
  }

  request(cmd: Command, timeoutMs: number, blocking: boolean): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const p = this.pending_(cmd, resolve, reject, timeoutMs, blocking);
      if (this.socket && this.waiting.length === 0 && this.inFlight.length < this.opts.maxInFlight) this.send(p);
      else this.waiting.push(p);
    });
  }

  /** The socket is open. `first` (AUTH) is written ahead of every waiting request. */
  attach(socket: Socket, first?: Command): Promise<Answer> | undefined {
    this.socket = socket;
    let answer: Promise<Answer> | undefined;
    if (first) answer = new Promise<Answer>((resolve, reject) => this.send(this.pending_(first, resolve, reject, 0, false)));
    this.pump();
    return answer;
  }

  /**
   * The socket is gone. Frames never handed to it go back to the front of the queue; requests it
   * carried are rejected with `lost`: the server may or may not have applied them.
   */
  detach(lost: Error): void {
    this.socket = null;
    const unsent = this.outbox.length;
    this.outbox = [];
    for (let i = 0; i < unsent; i++) {
      const p = this.inFlight.pop()!;
      p.written = false;
      this.waiting.unshift(p);
    }
    for (const p of this.inFlight.drain()) this.settle(p, lost);
    this.byReqId.clear();
    this.checkDrained();
  }

  /** Reject every request not yet written. */
  rejectWaiting(err: Error): void {
    for (const p of this.waiting.drain()) this.settle(p, err);
  }

  onAnswer(a: Answer): void {
    let p: Pending | undefined;
    if (this.opts.reqIds && typeof a.reqId === 'number') {
      p = this.byReqId.get(a.reqId);
      this.byReqId.delete(a.reqId);
    } else {
      // the oldest request not yet answered (an answer without its reqId still comes in order)
      for (let i = 0; i < this.inFlight.length; i++) {
        const q = this.inFlight.at(i)!;
        if (!q.answered) {
          p = q;
          if (this.opts.reqIds) this.byReqId.delete(q.reqId);
          break;
        }
      }
    }
    if (!p) {
      this.onUnmatched(a);
      return;
    }
    p.answered = true;
    while (this.inFlight.length > 0 && this.inFlight.peek()!.answered) this.inFlight.shift();
    if (!p.settled) {
      p.settled = true;
      if (p.timer) clearTimeout(p.timer);
      p.resolve(a);
    }
    if (this.waiting.length > 0) this.pump();
    this.checkDrained();
  }

  /** Write this tick's frames now rather than at the scheduled flush. */
  flushNow(): void {
    this.flush();
  }

  /** Resolve once every non-blocking request is settled, or after maxMs. */
  waitDrained(maxMs: number): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drainWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.drainWaiter = done;
    });
  }

  // ---- internals ----

  private pending_(cmd: Command, resolve: (a: Answer) => void, reject: (e: Error) => void, timeoutMs: number, blocking: boolean): Pending {
    const p: Pending = { cmd, resolve, reject, timer: null, timeoutMs, settled: false, answered: false, written: false, blocking, reqId: 0 };
    if (timeoutMs > 0) p.timer = setTimeout(() => this.onTimeout(p), timeoutMs);
    return p;
  }

  private send(p: Pending): void {
    let cmd = p.cmd;
    if (this.opts.reqIds) {
      p.reqId = ++this.nextReqId;
      cmd = { ...cmd, reqId: p.reqId };
    }
    let frame: string | Buffer;
    try {
      frame = this.opts.framing === 'json' ? encodeJson(cmd) : encodeMsgpack(cmd);
    } catch (err) {
      this.settle(p, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    p.written = true;
    this.inFlight.push(p);
    if (this.opts.reqIds) this.byReqId.set(p.reqId, p);
    this.outbox.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.opts.flush === 'microtask') queueMicrotask(this.flushBound);
      else setImmediate(this.flushBound);
    }
  }

  private readonly flushBound = () => this.flush();

  private flush(): void {
    this.flushScheduled = false;
    const out = this.outbox;
    if (out.length === 0 || !this.socket) return;
    this.outbox = [];
    const s = this.socket;
    if (out.length === 1) {
      s.write(out[0]!);
      return;
    }
    // Small frames are joined: one write of a joined string costs half of corked per-frame writes
    // (2,000 single PUSH frames). Large ones go as they are: joining 20 MB of PUSHB frames costs a
    // third more than writing them one by one. Measured by .tmp/clientbench/writes.mjs.
    s.cork();
    let run: (string | Buffer)[] = [];
    let runBytes = 0;
    for (const f of out) {
      if (f.length >= LARGE_FRAME) {
        if (run.length > 0) s.write(joinFrames(run, runBytes));
        run = [];
        runBytes = 0;
        s.write(f);
        continue;
      }
      run.push(f);
      runBytes += f.length;
      if (runBytes >= LARGE_FRAME * 4) {
        s.write(joinFrames(run, runBytes));
        run = [];
        runBytes = 0;
      }
    }
    if (run.length > 0) s.write(joinFrames(run, runBytes));
    s.uncork();
  }

  /** Move waiting requests to the wire while the in-flight bound allows. */
  private pump(): void {
    while (this.socket && this.inFlight.length < this.opts.maxInFlight) {
      const p = this.waiting.shift();
      if (!p) return;
      if (!p.settled) this.send(p);
    }
  }

  private onTimeout(p: Pending): void {
    p.timer = null;
    // a written request stays in inFlight: its late answer must still be consumed in its turn
    this.settle(p, new FlashqTimeoutError(p.cmd.cmd, p.timeoutMs, p.written));
    this.checkDrained();
  }

  private settle(p: Pending, err: Error): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.reject(err);
  }

  private checkDrained(): void {
    if (this.drainWaiter && this.isDrained()) this.drainWaiter();
  }

  private isDrained(): boolean {
    for (const q of [this.inFlight, this.waiting]) {
      for (let i = 0; i < q.length; i++) {
        const p = q.at(i)!;
        if (!p.settled && !p.blocking) return false;
      }
    }
    return true;
  }
}
