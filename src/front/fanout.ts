import { partitionOf } from '../engine/partition.js';
import type { JobView, QueueInfo, CronView, Counters } from '../engine/types.js';
import { RequestDecoder } from '../protocol/decode.js';
import { AnswerEncoder } from '../protocol/encode.js';
import { decodeInternalAnswer as decodeInternal } from '../protocol/internal.js';
import { ErrorCode, FlashqError, errors } from '../base/errors.js';
import type { Request } from '../protocol/request.js';
import { Format, type Result } from '../protocol/result.js';
import { Kind } from '../ring/kinds.js';
import type { Dispatcher } from './dispatcher.js';

export interface RateSource {
  /** completions per second and mean latency over the last metrics interval */
  rates(): { jobsPerSecond: number; avgLatencyMs: number };
}

type Answer = { code: number; bytes: Uint8Array };

/** A node-wide message (not a client command) telling another node to drop a cron name. */
export const CRON_DROP = 'cron-drop';

/**
 * Commands that every shard answers: ask all, merge on the front, render in the caller's format.
 */
export class Fanout {
  rates: RateSource = { rates: () => ({ jobsPerSecond: 0, avgLatencyMs: 0 }) };
  private readonly decoder = new RequestDecoder();
  readonly encoder = new AnswerEncoder();

  constructor(private readonly dispatcher: Dispatcher) {}

  /** The shard that owns a queue (set by the server once its router exists). */
  ownerOf: ((queue: string) => number) | null = null;

  /**
   * Merged result of a fan-out request (STATS, METRICS, LISTQUEUES, CRONLIST, JOBS). `localOnly`:
   * this node's shards only (what another node asks of this one in cluster mode; the merges are
   * associative, so the asking node merges node-wide results like shard results).
   */
  async result(req: Request, localOnly = false): Promise<Result> {
    if (req.cmd === 'JOBS') {
      // one shard holds every job in question (a queue's jobs live on its owner): it pages itself,
      // so a deep page costs one walk there instead of offset+limit jobs from every shard
      const targets = this.dispatcher.targets(localOnly);
      const only = req.queue !== null && this.ownerOf ? this.ownerOf(req.queue) : targets.length === 1 ? targets[0]! : -1;
      if (only >= 0) {
        const a = await this.dispatcher.ask(only, Format.Internal, JSON.stringify(req));
        if (a.code !== 0) throw new FlashqError(a.code as ErrorCode, errorText(a.bytes));
        return decodeInternal(a.bytes);
      }
    }
    const wire = req.cmd === 'JOBS' ? { ...req, limit: req.offset + req.limit, offset: 0 } : req;
    const parts = await this.dispatcher.fanout(JSON.stringify(wire), localOnly);
    const results: Result[] = [];
    for (const p of parts) {
      if (p.code !== 0) throw new FlashqError(p.code as ErrorCode, errorText(p.bytes));
      results.push(decodeInternal(p.bytes));
    }
    return merge(req, results, this.rates);
  }

  /**
   * A fan-out request as a client sent it: decoded and validated by the same decoder the shards
   * use, run on every shard, merged, rendered in the client's format.
   */
  async run(bytes: Uint8Array, format: Format): Promise<Answer> {
    let reqId: string | number | null = null;
    try {
      const decoded = this.decoder.decode(format, bytes);
      reqId = decoded.reqId;
      return { code: 0, bytes: this.encoder.answer(format, decoded.request, await this.result(decoded.request), reqId) };
    } catch (e) {
      const err = e instanceof FlashqError ? e : errors.internal(String(e));
      reqId = (e as { reqId?: string | number | null }).reqId ?? reqId;
      return { code: err.code, bytes: this.encoder.error(format, err, reqId) };
    }
  }

  /** CRONDELETE: the name may live on any shard of any node; delete everywhere, answer ok. */
  async cronDelete(payload: Uint8Array, format: Format, localOnly = false): Promise<Answer> {
    const copy = Uint8Array.prototype.slice.call(payload) as Uint8Array;
    const shards = this.dispatcher.shardCount;
    const targets = this.dispatcher.targets(localOnly);
    // other nodes take node-wide requests in the internal format only: an answer in that format
    // reaching a TCP or HTTP client is never matched to its request (the client waited forever)
    let forNodes: string | null = null;
    let reqId: string | number | null = null;
    if (targets.some((s) => s >= shards)) {
      try {
        const decoded = this.decoder.decode(format, copy);
        reqId = decoded.reqId;
        if (decoded.request.cmd === 'CRONDELETE') forNodes = JSON.stringify({ cmd: 'CRONDELETE', name: decoded.request.name });
      } catch {
        // not a valid request: the local shards answer why, and no other node is asked
      }
    }
    const asked = targets.filter((s) => s < shards || forNodes !== null);
    const parts = await Promise.all(asked.map((s) => (s < shards ? this.dispatcher.ask(s, format, copy) : this.dispatcher.ask(s, Format.Internal, forNodes!))));
    const local = parts.filter((_, i) => asked[i]! < shards);
    const refused = local.find((p) => p.code !== 0);
    if (refused !== undefined) return refused;
    const remote = parts.find((p, i) => asked[i]! >= shards && p.code !== 0);
    if (remote !== undefined) return { code: remote.code, bytes: this.encoder.error(format, new FlashqError(remote.code as ErrorCode, errorText(remote.bytes)), reqId) };
    return local[0]!;
  }

  /**
   * CRON: created on its queue's shard (which fires it) first; once that succeeded a same-named
   * cron another shard may hold is dropped, since a name is unique server-wide. In cluster mode
   * other nodes drop it on all their shards but the one serving `partition` (`cronDropElsewhere`).
   */
  async cronCreate(target: number, format: Format, payload: Uint8Array, name: string | null, queue: string | null): Promise<Answer> {
    const partition = queue === null ? -1 : partitionOf(queue);
    const answer = await this.dispatcher.ask(target, format, payload);
    if (answer.code === 0 && name !== null) {
      const drop = JSON.stringify({ cmd: 'CRONDELETE', name });
      for (const s of this.dispatcher.fanoutTargets) {
        if (s === target) continue;
        if (s < this.dispatcher.shardCount) this.dispatcher.send(s, Kind.REQUEST, Format.Internal, 0, 0, drop);
        else this.dispatcher.send(s, Kind.REQUEST, Format.Internal, 0, 0, JSON.stringify({ op: CRON_DROP, name, keep: partition }));
      }
    }
    return answer;
  }

  /**
   * Another node created cron `name` for a queue of partition `keep`: drop the same name on every
   * local shard but the one serving `keep` (if this node serves it, the cron just created is there).
   */
  cronDropElsewhere(name: string, keepShard: number): void {
    const drop = JSON.stringify({ cmd: 'CRONDELETE', name });
    for (let s = 0; s < this.dispatcher.shardCount; s++) {
      if (s !== keepShard) this.dispatcher.send(s, Kind.REQUEST, Format.Internal, 0, 0, drop);
    }
  }

  /** ACKB split across shards (ShardRouter.ackBatchRoute): the sum of what each acked. */
  async ackSplit(groups: Map<number, number[]>, format: Format, reqId: string | number | null): Promise<Answer> {
    const parts = await Promise.all(
      [...groups].map(([s, ids]) => this.dispatcher.ask(s, Format.Internal, JSON.stringify({ cmd: 'ACKB', ids }))),
    );
    let count = 0;
    for (const p of parts) {
      if (p.code !== 0) return { code: p.code, bytes: this.encoder.error(format, new FlashqError(p.code as ErrorCode, errorText(p.bytes)), reqId) };
      const r = decodeInternal(p.bytes);
      if (r.kind === 'count') count += r.count;
    }
    return { code: 0, bytes: this.encoder.answer(format, { cmd: 'ACKB', ids: [] }, { kind: 'count', count }, reqId) };
  }
}

function errorText(bytes: Uint8Array): string {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as { error?: string };
    return v.error ?? 'Internal error';
  } catch {
    return 'Internal error';
  }
}

function byNewest(a: JobView, b: JobView): number {
  return b.createdAt - a.createdAt || b.id - a.id;
}

/** Merge per-shard results of the same fan-out request. */
export function merge(req: Request, parts: Result[], rates: RateSource): Result {
  switch (req.cmd) {
    case 'STATS': {
      const s = { queued: 0, processing: 0, delayed: 0, dlq: 0 };
      for (const p of parts) {
        if (p.kind !== 'stats') continue;
        s.queued += p.stats.queued;
        s.processing += p.stats.processing;
        s.delayed += p.stats.delayed;
        s.dlq += p.stats.dlq;
      }
      return { kind: 'stats', stats: s };
    }
    case 'LISTQUEUES': {
      const queues: QueueInfo[] = [];
      for (const p of parts) if (p.kind === 'queues') queues.push(...p.queues);
      queues.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { kind: 'queues', queues };
    }
    case 'CRONLIST': {
      const crons: CronView[] = [];
      for (const p of parts) if (p.kind === 'crons') crons.push(...p.crons);
      crons.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { kind: 'crons', crons };
    }
    case 'METRICS': {
      const counters: Counters = { totalPushed: 0, totalCompleted: 0, totalFailed: 0, latencySumMs: 0 };
      const queues: QueueInfo[] = [];
      for (const p of parts) {
        if (p.kind !== 'metrics') continue;
        counters.totalPushed += p.counters.totalPushed;
        counters.totalCompleted += p.counters.totalCompleted;
        counters.totalFailed += p.counters.totalFailed;
        counters.latencySumMs += p.counters.latencySumMs;
        queues.push(...p.queues);
      }
      queues.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const r = rates.rates();
      return { kind: 'metrics', counters, queues, jobsPerSecond: r.jobsPerSecond, avgLatencyMs: r.avgLatencyMs };
    }
    case 'JOBS': {
      const jobs: JobView[] = [];
      for (const p of parts) if (p.kind === 'jobs') jobs.push(...p.jobs);
      jobs.sort(byNewest);
      return { kind: 'jobs', jobs: jobs.slice(req.offset, req.offset + req.limit) };
    }
    default:
      throw errors.internal(`${req.cmd} is not a fan-out command`);
  }
}
