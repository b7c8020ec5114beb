import { Engine } from '../engine/engine.js';
import { partitionOf, partitionOfId } from '../engine/partition.js';
import type { RestoreInput } from '../engine/api.js';
import type { EngineEvent, JobInput, ParentStatus } from '../engine/types.js';
import type { DecodeOptions } from '../protocol/commands.js';
import { RequestDecoder } from '../protocol/decode.js';
import { AnswerEncoder } from '../protocol/encode.js';
import { ErrorCode, FlashqError, errors } from '../base/errors.js';
import type { Request } from '../protocol/request.js';
import { Format, type Result } from '../protocol/result.js';
import type { ShardStore } from './durable.js';
import { ALL_PARTITIONS, type ControlMessage, type PartitionControl, type PartitionReport, type ShardMessage, type ShardToFront } from './messages.js';
import { Handover } from './handover.js';
import { Stand, ServedPartitions } from './partitions.js';
import { PARTITIONS } from '../engine/types.js';
import type { Outbox } from './outbox.js';
import type { ShardOptions } from './start.js';
import { Waiters, type Waiter } from './waiters.js';
import { runCommand } from './execute.js';
import { eventTypeIndex } from '../events/catalogue.js';
import { eventJson, eventQueueStart } from './events-json.js';

/** An answer of the turn, kept with what is needed to re-encode it as a storage failure. */
interface PendingAnswer {
  conn: number;
  seq: number;
  code: number;
  bytes: Uint8Array;
  format: Format;
  reqId: string | number | null;
}

/** What a turn sends out once its changes are committed. */
interface TurnOutput {
  answers: PendingAnswer[];
  events: EngineEvent[];
  messages: Array<{ target: number; msg: ShardMessage }>;
}

interface PendingPush {
  conn: number;
  seq: number;
  format: Format;
  reqId: string | number | null;
  request: Extract<Request, { cmd: 'PUSH' | 'PUSHB' }>;
  awaiting: Set<number>;
  statuses: Map<number, ParentStatus>;
}

/** Commands that change state (refused while a synchronous store is unavailable). */
const MUTATING: ReadonlySet<string> = new Set([
  'PUSH', 'PUSHB', 'PULL', 'PULLB', 'ACK', 'ACKB', 'FAIL', 'CANCEL', 'PROGRESS', 'RETRYDLQ', 'RATELIMIT',
  'RATELIMITCLEAR', 'SETCONCURRENCY', 'CLEARCONCURRENCY', 'PAUSE', 'RESUME', 'CRON', 'CRONDELETE',
]);

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Request bytes after which a turn ends before the rest of what arrived with it is handled: the
 * big request's answer leaves while the next ones are parsed, so a client pipelining batches
 * encodes its next batch meanwhile instead of waiting for the answers of the whole read (client
 * PUSHB ×1000 with 4 in flight: 0.97M → 1.15M jobs/s). Small requests still share a turn.
 */
export const EARLY_TURN_BYTES = 64 * 1024;

/**
 * One shard: decodes the requests routed to it, runs them against its Engine, parks blocking pulls,
 * drives the engine's clock with a single timer, and hands answers, events and messages for other
 * shards to its Outbox once per turn. Transport-agnostic: the worker and inline adapters feed it.
 */
export class Shard {
  /** replaced (never mutated back) when the store restores committed state */
  engine: Engine;
  private readonly waiters = new Waiters();
  /** pushes waiting for parents' owners to answer, by parent id */
  private readonly pendingPushes = new Map<number, PendingPush[]>();
  private events: EngineEvent[] = [];
  private eventsOn = false;
  /** queues whose events someone wants; null = every queue */
  private eventQueues: Set<string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private answers: PendingAnswer[] = [];
  private messages: Array<{ target: number; msg: ShardMessage }> = [];
  private commitTail: Promise<void> = Promise.resolve();
  private closed = false;
  /** set by the `stop` control message: the adapter closes the shard after the turn */
  stopRequested = false;

  /** batch payloads stay spans of their request (JobInput.block): the engine keeps them so */
  private readonly decodeOptions: DecodeOptions;
  private readonly decoder = new RequestDecoder();
  private readonly encoder = new AnswerEncoder();
  /** cluster mode: the partitions served, loading and leaving (null on a single node) */
  private readonly parts: ServedPartitions | null;
  private readonly handover: Handover | null;
  /** cluster mode: the timer of resendWatches */
  private readonly resendTimer: NodeJS.Timeout | null;

  constructor(
    private readonly opts: ShardOptions,
    private readonly out: Outbox,
    private readonly store: ShardStore | null = null,
    private readonly clock: () => number = Date.now,
  ) {
    this.decodeOptions = { maxBatch: opts.maxBatch, payloadSpans: true };
    this.parts = opts.cluster ? new ServedPartitions(opts.index, opts.count) : null;
    this.handover = this.parts === null ? null : this.newHandover(this.parts);
    this.engine = this.newEngine();
    this.resendTimer = null;
    if (opts.cluster) {
      this.resendTimer = setInterval(() => this.resendWatches(), Math.max(250, Math.floor(opts.cluster.idleMs / 2)));
      this.resendTimer.unref();
    }
  }

  private newHandover(parts: ServedPartitions): Handover {
    return new Handover({
      parts,
      store: this.store,
      engine: () => this.engine,
      now: () => this.clock(),
      report: (msg) => this.tellFront(msg),
      releasePulls: (gone) => {
        for (const w of this.waiters.takeQueues((q) => gone[partitionOf(q)] === 1)) this.expire(w);
        this.refusePendingPushes(gone);
      },
      settled: () => this.settled(),
      endTurn: () => this.endTurn(),
      rewatch: (gained) => this.rewatchAll(gained),
    });
  }

  /** Resolves once every commit handed over so far, and any handed over meanwhile, has settled. */
  private async settled(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.commitTail;
      await tail;
    } while (tail !== this.commitTail);
  }

  private newEngine(): Engine {
    const opts = this.opts;
    const engine = new Engine({
      // a cluster shard starts with no partition: they come with `gain`
      owns: this.parts !== null ? () => false : (p) => p % opts.count === opts.index,
      keepCompleted: Math.max(1, Math.ceil(opts.keepCompleted / opts.count)),
      maxQueues: opts.maxQueues,
      persist: this.store !== null,
    });
    engine.setEventsEnabled(this.eventsOn);
    return engine;
  }

  /**
   * Load the store's committed state into this shard (no store: nothing to load). The store keeps
   * reporting to the shard: it rebuilds the engine after a failed commit, and its availability
   * goes to the front.
   */
  async recover(): Promise<void> {
    const parts = this.parts;
    await this.store?.recover({
      restore: (input, rebuilt) => this.restore(input, rebuilt),
      availability: (up) => this.tellFront({ op: 'store', available: up }),
      partitions:
        parts === null
          ? undefined
          : { epochOf: (p) => parts.epochOf(p), served: () => parts.served(), fenced: (ps) => this.handover!.fenced(ps) },
    });
  }

  /**
   * Replace the engine by one holding `input` (at start, and after a failed commit left the old
   * engine ahead of the database). Parked pulls and pending pushes stay; what restoring decides
   * (lost leases…) is committed by the turn this ends. A rebuilt engine lost its watch list and
   * the other shards lost theirs of its parents: both are asked again.
   */
  private restore(input: RestoreInput, rebuilt: boolean): void {
    this.engine = this.newEngine();
    if (this.parts !== null) {
      // what the store reloaded of the partitions served now (one dropped meanwhile stays out)
      const parts = this.parts;
      this.engine.adoptPartitions((input.partitions ?? []).filter((p) => parts.stand[p] === Stand.Served), input, this.clock());
    } else this.engine.restore(input, this.clock());
    if (rebuilt) this.rewatchAll(this.ownPartitions());
    this.endTurn();
  }

  /** A CONTROL message for the front, sent now. */
  private tellFront(msg: ShardToFront | PartitionReport): void {
    this.out.control(msg);
    this.out.flush();
  }

  private shardOfPartition(p: number): number {
    return p % this.opts.count;
  }

  // ---------------------------------------------------------------- input

  request(conn: number, seq: number, format: Format, bytes: Uint8Array): void {
    let reqId: string | number | null = null;
    let request: Request;
    try {
      const decoded = this.decoder.decode(format, bytes, this.decodeOptions);
      request = decoded.request;
      reqId = decoded.reqId;
    } catch (e) {
      const err = e instanceof FlashqError ? e : errors.badRequest(String((e as Error)?.message ?? e));
      reqId = (e as { reqId?: string | number | null }).reqId ?? null;
      this.replyError(conn, seq, format, err, reqId);
      return;
    }
    this.run(conn, seq, format, request, reqId);
  }

  private run(conn: number, seq: number, format: Format, request: Request, reqId: string | number | null): void {
    const now = this.clock();
    try {
      if (this.parts !== null) this.parts.check(request);
      if (this.store && !this.store.available && MUTATING.has(request.cmd)) throw errors.storageUnavailable();
      // the front routed by a scan that keeps the first of duplicate keys; the decoder kept the last
      if (request.cmd !== 'JOBS' && 'queue' in request) this.checkOwned(request.queue);
      const result = this.execute(conn, seq, format, request, reqId, now);
      if (result) this.reply(conn, seq, format, request, result, reqId);
    } catch (e) {
      const err = e instanceof FlashqError ? e : errors.internal(String((e as Error)?.stack ?? e));
      if (err.code === ErrorCode.Internal) console.error(err.message);
      this.replyError(conn, seq, format, err, reqId);
    }
  }

  /** Runs one request; returns its Result, or null when the answer comes later (parked pull, remote parents). */
  private execute(conn: number, seq: number, format: Format, r: Request, reqId: string | number | null, now: number): Result | null {
    const e = this.engine;
    switch (r.cmd) {
      case 'PUSH':
      case 'PUSHB': {
        const jobs: JobInput[] = r.cmd === 'PUSH' ? [r.job] : r.jobs;
        const remote = e.remoteParentsOf(jobs);
        if (remote.length > 0) {
          this.deferPush({ conn, seq, format, reqId, request: r, awaiting: new Set(remote), statuses: new Map() });
          return null;
        }
        return { kind: 'pushed', jobs: e.push(r.queue, jobs, now) };
      }
      case 'PULL':
      case 'PULLB': {
        const count = r.cmd === 'PULL' ? 1 : r.count;
        const jobs = this.waiters.hasQueue(r.queue) ? [] : e.pull(r.queue, count, now, conn);
        if (jobs.length > 0 || r.timeout === 0) {
          if (jobs.length === 0) {
            const block = e.pullBlock(r.queue, now);
            if (block === 'paused') throw errors.queuePaused();
            if (block === 'rate_limited') throw errors.rateLimited();
          }
          return { kind: 'jobs', jobs };
        }
        const deadline = r.timeout === null ? Infinity : now + r.timeout;
        this.waiters.add({ conn, seq, format, reqId, request: r, deadline, heapIndex: -1, done: false });
        return null;
      }
      default:
        return runCommand(e, r, now);
    }
  }

  private checkOwned(queue: string): void {
    if (this.shardOfPartition(partitionOf(queue)) !== this.opts.index) {
      // only a request naming its queue twice gets here: the front routed by the first, JSON by the last
      throw errors.badRequest(`Invalid request: conflicting "queue" fields (decoded ${JSON.stringify(queue)})`);
    }
  }

  // ------------------------------------------------- dependencies across shards

  private deferPush(p: PendingPush): void {
    // the answer comes back to the child's partition, which this shard serves
    const partition = partitionOf(p.request.queue);
    for (const parent of p.awaiting) {
      let list = this.pendingPushes.get(parent);
      if (!list) this.pendingPushes.set(parent, (list = []));
      list.push(p);
      this.sendShard(partitionOfId(parent), { t: 'watch', parent, partition });
    }
  }

  /**
   * A message for whoever serves partition `target` (or ALL_PARTITIONS), routed by the front.
   * Messages leave with the turn's answers: a parent's outcome is announced only once committed.
   */
  private sendShard(target: number, msg: ShardMessage): void {
    this.messages.push({ target, msg });
  }

  /** Cluster mode: whether this shard serves partition p now (a single node's shard always does). */
  private serves(p: number): boolean {
    return this.parts === null || this.parts.stand[p] === Stand.Served;
  }

  shardMessage(json: string): void {
    const msg = JSON.parse(json) as ShardMessage;
    const now = this.clock();
    switch (msg.t) {
      case 'watch': {
        // sent while the parent's partition moved away from here: the front routes it to the
        // partition's owner now (or holds it until there is one); answering `unknown` would fail the child
        const home = partitionOfId(msg.parent);
        if (!this.serves(home)) this.sendShard(home, msg);
        else {
          const status = this.engine.watchParent(msg.parent, msg.partition);
          this.sendShard(msg.partition, { t: 'watched', parent: msg.parent, partition: msg.partition, status });
        }
        break;
      }
      case 'watched': {
        // the child's partition moved: its new owner gets the answer too (pushes deferred here
        // for partitions still served are answered below)
        if (!this.serves(msg.partition)) this.sendShard(msg.partition, msg);
        const list = this.pendingPushes.get(msg.parent);
        if (list) {
          this.pendingPushes.delete(msg.parent);
          for (const p of list) {
            p.statuses.set(msg.parent, msg.status);
            p.awaiting.delete(msg.parent);
            if (p.awaiting.size === 0) this.completePush(p, now);
          }
        }
        // children already waiting here (e.g. re-watched after recovery) learn a final outcome too
        if (msg.status === 'completed') this.engine.parentResolved(msg.parent, 'completed', now);
        else if (msg.status !== 'pending') this.engine.parentResolved(msg.parent, 'failed', now);
        break;
      }
      case 'dep':
        if (!this.serves(msg.partition)) this.sendShard(msg.partition, msg);
        else this.engine.parentResolved(msg.parent, msg.outcome, now);
        break;
      case 'rewatch':
        this.rewatchRemoteParents(msg.partitions);
        break;
    }
  }

  private completePush(p: PendingPush, now: number): void {
    const r = p.request;
    try {
      for (const [parent, status] of p.statuses) if (status === 'unknown') throw errors.jobNotFound(parent);
      if (this.parts !== null && !this.parts.servesQueue(r.queue)) throw errors.notServed(partitionOf(r.queue));
      if (this.store && !this.store.available) throw errors.storageUnavailable();
      const jobs = this.engine.push(r.queue, r.cmd === 'PUSH' ? [r.job] : r.jobs, now, p.statuses);
      this.reply(p.conn, p.seq, p.format, r, { kind: 'pushed', jobs }, p.reqId);
    } catch (e) {
      const err = e instanceof FlashqError ? e : errors.internal(String(e));
      this.replyError(p.conn, p.seq, p.format, err, p.reqId);
    }
  }

  /**
   * This shard (re)loaded `loaded` from the store: ask the owners of its remote parents again, and
   * every other shard (of every node) to watch again the parents it holds in `loaded`, whose
   * watcher lists were not stored.
   */
  private rewatchAll(loaded: number[]): void {
    this.rewatchRemoteParents();
    if (loaded.length > 0) this.sendShard(ALL_PARTITIONS, { t: 'rewatch', partitions: loaded });
  }

  /** The partitions this shard holds: its share on a single node, those served in cluster mode. */
  private ownPartitions(): number[] {
    if (this.parts !== null) return this.parts.served().map((h) => h.partition);
    const out: number[] = [];
    for (let p = this.opts.index; p < PARTITIONS; p += this.opts.count) out.push(p);
    return out;
  }

  /** Ask the owners of remote parents again (their answers release children); only those in `parentPartitions` if given. */
  private rewatchRemoteParents(parentPartitions?: readonly number[]): void {
    const only = parentPartitions === undefined ? null : new Set(parentPartitions);
    for (const { parentId, partition, watcher } of this.engine.pendingRemoteParents()) {
      if (only !== null && !only.has(partition)) continue;
      // a single node's shard always holds partition `index`, so one watcher entry per shard
      // suffices; a cluster shard names a partition the waiting child is in (it travels with it)
      this.sendShard(partition, { t: 'watch', parent: parentId, partition: this.parts !== null ? watcher : this.opts.index });
    }
  }

  /**
   * Cluster mode's safety net: watch again every remote parent still awaited (waiting children
   * and deferred pushes). A shard message can be lost when a link between nodes drops with it
   * in flight; the answer to this one repairs that, so no child waits forever for a lost notice.
   */
  private resendWatches(): void {
    if (this.closed) return;
    const before = this.messages.length;
    this.rewatchRemoteParents();
    for (const [parent, list] of this.pendingPushes) {
      this.sendShard(partitionOfId(parent), { t: 'watch', parent, partition: partitionOf(list[0]!.request.queue) });
    }
    if (this.messages.length > before) this.endTurn();
  }

  /** Pushes deferred for partitions this shard gave up (`gone`): answered "not served", the client retries. */
  private refusePendingPushes(gone: Uint8Array): void {
    if (this.pendingPushes.size === 0) return;
    const refused = new Set<PendingPush>();
    for (const [parent, list] of this.pendingPushes) {
      const keep = list.filter((p) => {
        if (gone[partitionOf(p.request.queue)] !== 1) return true;
        refused.add(p);
        return false;
      });
      if (keep.length === 0) this.pendingPushes.delete(parent);
      else this.pendingPushes.set(parent, keep);
    }
    for (const p of refused) this.replyError(p.conn, p.seq, p.format, errors.notServed(partitionOf(p.request.queue)), p.reqId);
  }

  // ------------------------------------------------------------ connections

  connClosed(conn: number): void {
    this.waiters.dropConn(conn);
    this.engine.releaseOwner(conn, this.clock());
  }

  /** The front's CONTROL messages; inline and worker shards both come here for every one. */
  control(msg: ControlMessage | PartitionControl): void {
    switch (msg.op) {
      case 'events':
        this.eventsOn = msg.on;
        this.eventQueues = msg.queues === null ? null : new Set(msg.queues);
        this.engine.setEventsEnabled(this.eventsOn);
        break;
      case 'drain':
        for (const w of this.waiters.takeAll()) this.expire(w);
        break;
      case 'rewatch':
        this.rewatchRemoteParents();
        break;
      case 'stop':
        // the adapter closes the shard once this turn has ended (see stopRequested)
        this.stopRequested = true;
        break;
      case 'gain':
        if (this.handover === null) throw new Error('`gain` is for a cluster shard (ShardOptions.cluster)');
        this.handover.gain(msg.partitions, msg.epochs);
        break;
      case 'lose':
        if (this.handover === null) throw new Error('`lose` is for a cluster shard (ShardOptions.cluster)');
        this.handover.lose(msg.partitions, msg.returnLeases === true);
        break;
      case 'store':
      case 'gained':
      case 'gainFailed':
      case 'lost':
      case 'fenced':
        throw new Error(`a shard got the control message a shard sends the front: ${msg.op}`);
      default:
        msg satisfies never;
    }
  }

  // ---------------------------------------------------------------- output

  private reply(conn: number, seq: number, format: Format, request: Request, result: Result, reqId: string | number | null): void {
    if (conn === 0) return; // internal request whose answer nobody reads
    this.answers.push({ conn, seq, code: 0, bytes: this.encoder.answer(format, request, result, reqId), format, reqId });
  }

  private replyError(conn: number, seq: number, format: Format, err: FlashqError, reqId: string | number | null): void {
    if (conn === 0) return;
    this.answers.push({ conn, seq, code: err.code, bytes: this.encoder.error(format, err, reqId), format, reqId });
  }

  /** Apply what the commands of this turn set in motion, then send everything out together. */
  endTurn(): void {
    const now = this.clock();
    this.settle(now);
    const turn: TurnOutput = { answers: this.answers, events: this.events, messages: this.messages };
    this.answers = [];
    this.events = [];
    this.messages = [];
    if (this.store) {
      // handed over now, so turns that end while a commit is in flight merge into the next one;
      // answers still leave in turn order, each once its own turn is committed (PERSIST=sync)
      const committed = this.store.commit(this.engine.takeChanges()).then(
        () => null,
        (err: unknown) => err ?? new Error('commit failed'),
      );
      this.commitTail = this.commitTail
        .then(() => committed)
        .then((err) => (err === null ? this.emit(turn) : this.emitStorageFailure(turn, err)));
    } else {
      this.emit(turn);
    }
    this.armTimer(now);
  }

  private emit(turn: TurnOutput): void {
    for (const a of turn.answers) this.out.answer(a.conn, a.seq, a.code, a.bytes);
    for (const ev of turn.events) {
      const qs = eventQueueStart(ev);
      this.out.event(eventTypeIndex(ev.type), qs, qs + ev.queue.length, eventJson(ev));
    }
    for (const m of turn.messages) this.out.shardMsg(m.target, JSON.stringify(m.msg));
    this.out.flush();
  }

  /**
   * The turn's changes are not committed: every answer becomes `Storage unavailable`, in its own
   * request's format; events are dropped. Watch requests and answers still go (other shards wait
   * on them), outcomes of parents do not (the store rebuilds this engine from committed state).
   */
  private emitStorageFailure(turn: TurnOutput, err: unknown): void {
    if (!(err instanceof FlashqError && err.code === ErrorCode.StorageUnavailable)) {
      console.error(JSON.stringify({ level: 'error', msg: 'commit failed', shard: this.opts.index, error: String(err) }));
    }
    const failure = errors.storageUnavailable();
    for (const a of turn.answers) {
      this.out.answer(a.conn, a.seq, ErrorCode.StorageUnavailable, this.encoder.error(a.format, failure, a.reqId));
    }
    for (const m of turn.messages) if (m.msg.t !== 'dep') this.out.shardMsg(m.target, JSON.stringify(m.msg));
    this.out.flush();
  }

  private settle(now: number): void {
    for (let round = 0; round < 16; round++) {
      const eff = this.engine.takeEffects();
      if (this.eventsOn && eff.events.length > 0) {
        const wanted = this.eventQueues;
        for (const ev of eff.events) if (wanted === null || wanted.has(ev.queue)) this.events.push(ev);
      }
      for (const d of eff.dependencies) {
        this.sendShard(d.partition, { t: 'dep', parent: d.parentId, partition: d.partition, outcome: d.outcome });
      }
      if (eff.wake.length === 0) break;
      for (const q of eff.wake) this.serveWaiters(q, now);
    }
  }

  private serveWaiters(queue: string, now: number): void {
    const list = this.waiters.queueWaiters(queue);
    if (!list) return;
    for (const w of list) {
      if (w.done) continue;
      const count = w.request.cmd === 'PULL' ? 1 : w.request.count;
      const jobs = this.engine.pull(queue, count, now, w.conn);
      if (jobs.length === 0) break;
      this.waiters.finish(w);
      this.reply(w.conn, w.seq, w.format, w.request, { kind: 'jobs', jobs }, w.reqId);
    }
  }

  // ----------------------------------------------------------------- clock

  private armTimer(now: number): void {
    if (this.closed) return;
    const due = Math.min(this.engine.nextDue(), this.waiters.nextDeadline());
    if (due === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = due;
    if (due === Infinity) return;
    this.timer = setTimeout(() => this.onTimer(), Math.min(MAX_TIMER_MS, Math.max(0, due - now)));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock();
    this.engine.tick(now);
    for (const w of this.waiters.expired(now)) this.expire(w);
    this.endTurn();
  }

  private expire(w: Waiter): void {
    this.reply(w.conn, w.seq, w.format, w.request, { kind: 'jobs', jobs: [] }, w.reqId);
  }

  /** Wait for commits in flight; stop the timer. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.timer = null;
    await this.commitTail;
    if (this.store) await this.store.close();
  }
}
