import { JobRows } from '../engine/job-rows.js';
import type { RestoreInput } from '../engine/api.js';
import type { Engine } from '../engine/engine.js';
import { PARTITIONS } from '../engine/types.js';
import { log } from '../log.js';
import type { ShardStore } from './durable.js';
import type { PartitionReport } from './messages.js';
import { Stand, type ServedPartitions } from './partitions.js';

/** What the handover needs of its shard. */
export interface HandoverHost {
  readonly parts: ServedPartitions;
  readonly store: ShardStore | null;
  engine(): Engine;
  now(): number;
  report(msg: PartitionReport): void;
  /** answer now, with no job, the blocked pulls on queues of the partitions marked in `gone` */
  releasePulls(gone: Uint8Array): void;
  /** resolves once every commit handed over so far (and any handed over meanwhile) has settled */
  settled(): Promise<void>;
  /** end a turn: what restoring decided is committed, answers leave */
  endTurn(): void;
  /** after a gain: ask the owners of remote parents again, and every shard to re-watch the parents in `gained` */
  rewatch(gained: number[]): void;
}

const EMPTY: RestoreInput = { jobs: new JobRows(), queues: [], crons: [], seqs: [] };

function maskOf(parts: readonly number[]): Uint8Array {
  const mask = new Uint8Array(PARTITIONS);
  for (const p of parts) mask[p] = 1;
  return mask;
}

/**
 * A cluster shard taking partitions over (`gain`: reload, restore into the live engine, serve)
 * and giving them up (`lose`: stop serving, let the commits in flight settle, drop everything;
 * `fenced`: a commit was refused, drop at once). See PartitionControl in messages.ts.
 */
export class Handover {
  constructor(private readonly h: HandoverHost) {}

  gain(partitions: readonly number[], epochs: readonly number[]): void {
    const { parts } = this.h;
    if (!Array.isArray(partitions) || !Array.isArray(epochs) || partitions.length !== epochs.length) {
      log.error('gain refused: partitions and epochs differ', { partitions, epochs });
      this.h.report({ op: 'gainFailed', partitions: Array.isArray(partitions) ? [...partitions] : [], error: 'partitions and epochs differ' });
      return;
    }
    const loads: Array<{ partition: number; epoch: number; id: number }> = [];
    const refused: number[] = [];
    for (let i = 0; i < partitions.length; i++) {
      const p = partitions[i]!;
      const e = epochs[i]!;
      if (!parts.isMine(p) || !Number.isSafeInteger(e) || e < 0 || parts.stand[p] !== Stand.None) refused.push(p);
      else loads.push({ partition: p, epoch: e, id: parts.startLoad(p, e) });
    }
    if (refused.length > 0) {
      log.error('gain refused: not this shard\'s, bad epoch, or already held', { partitions: refused });
      this.h.report({ op: 'gainFailed', partitions: refused, error: 'not this shard\'s partition, bad epoch, or already served, loading or leaving' });
    }
    if (loads.length === 0) return;
    const store = this.h.store;
    if (store === null) {
      this.adopt(loads, EMPTY);
      return;
    }
    const holds = loads.map((l) => ({ partition: l.partition, epoch: l.epoch }));
    const t0 = performance.now();
    store
      .loadTaken(holds, (input) => {
        const n = this.adopt(loads, input);
        log.info('partitions taken over', { partitions: n, jobs: input.jobs.count, ms: Math.round(performance.now() - t0) });
      })
      .catch((err: unknown) => {
        const failed = loads.filter((l) => parts.isCurrentLoad(l.partition, l.id)).map((l) => l.partition);
        for (const p of failed) parts.set(p, Stand.None);
        const error = (err as Error)?.message ?? String(err);
        log.warn('taking partitions over failed', { partitions: failed, error });
        if (failed.length > 0) this.h.report({ op: 'gainFailed', partitions: failed, error });
      });
  }

  /** Restore the loads still wanted into the live engine and serve them; returns how many. */
  private adopt(loads: ReadonlyArray<{ partition: number; id: number }>, input: RestoreInput): number {
    const { parts } = this.h;
    const ready = loads.filter((l) => parts.isCurrentLoad(l.partition, l.id)).map((l) => l.partition);
    if (ready.length === 0) return 0;
    this.h.engine().adoptPartitions(ready, input, this.h.now());
    for (const p of ready) parts.set(p, Stand.Served);
    this.h.rewatch(ready);
    this.h.endTurn();
    this.h.report({ op: 'gained', partitions: ready });
    return ready.length;
  }

  /**
   * With `returnLeases` (a planned move, the lease still held) the jobs active on the partitions
   * go back to waiting, attempts uncounted, in the commit that ends this turn: a worker holding one
   * loses only its ACK, not an attempt (with the default max_attempts of 1, the job itself).
   */
  lose(partitions: readonly number[], returnLeases = false): void {
    const { parts } = this.h;
    const mine = Array.isArray(partitions) ? partitions.filter((p) => parts.isMine(p)) : [];
    const leaving: number[] = [];
    for (const p of mine) {
      const stand = parts.stand[p];
      if (stand === Stand.Served) {
        parts.set(p, Stand.Leaving);
        leaving.push(p);
      } else if (stand === Stand.Loading) {
        parts.set(p, Stand.None); // the load's result is dropped when it arrives
      }
    }
    if (leaving.length > 0) this.h.releasePulls(maskOf(leaving));
    if (returnLeases && leaving.length > 0) {
      const n = this.h.engine().returnLeases(leaving);
      if (n > 0) log.info('leases returned before a move', { partitions: leaving.length, jobs: n });
    }
    // Requests applied before this message may still be in the open turn (an inline shard ends
    // its turn on the front's next flush, after this promise chain may have run): end it now, so
    // their changes are committed before the drop. Otherwise the drop forgets them and their
    // answers still leave ok: acknowledged pushes and acks the next owner never sees.
    this.h.endTurn();
    void this.h.settled().then(() => {
      // a fence may have dropped some meanwhile; whatever is still leaving goes now, in one step
      const still = leaving.filter((p) => parts.stand[p] === Stand.Leaving);
      const jobs = still.length > 0 ? this.h.engine().dropPartitions(still) : 0;
      for (const p of still) parts.set(p, Stand.None);
      if (still.length > 0) log.info('partitions given up', { partitions: still.length, jobs });
      this.h.report({ op: 'lost', partitions: mine });
    });
  }

  /** A commit was refused for these partitions: another node holds them. Drop them now. */
  fenced(partitions: readonly number[]): void {
    const { parts } = this.h;
    const gone = partitions.filter((p) => parts.isMine(p) && parts.stand[p] !== Stand.None);
    if (gone.length === 0) return;
    for (const p of gone) parts.set(p, Stand.None);
    this.h.releasePulls(maskOf(gone));
    const jobs = this.h.engine().dropPartitions(gone);
    log.warn('partitions fenced off: another node holds them', { partitions: gone, jobs });
    this.h.endTurn();
    this.h.report({ op: 'fenced', partitions: gone });
  }
}
