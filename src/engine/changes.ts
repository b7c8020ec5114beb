import { type Job, idOf, viewOf } from './job.js';
import { partitionOf, partitionOfId } from './partition.js';
import type { Changes, CronFiring, CronView, QueueSettings } from './types.js';

const NO_IDS: number[] = [];
const NO_FIRINGS: CronFiring[] = [];

/**
 * What changed during one turn, coalesced per job for the store. A job inserted this turn stays
 * an insert whatever happens to it next (the store reads its current view); inserted then deleted
 * leaves no trace; updated then deleted is a delete.
 */
export class ChangeLog {
  private inserted = new Set<Job>();
  private updated = new Set<Job>();
  private deleted: number[] = [];
  private retimed = new Set<Job>();
  private queues = new Map<string, QueueSettings>();
  private cronsUpserted = new Map<string, CronView>();
  private cronsDeleted = new Set<string>();
  private seqs = new Map<number, number>();
  private cronsFired = new Map<string, CronFiring>();
  /** crons created, replaced or deleted by a command this turn: a later firing is not compared */
  private cronsRewritten = new Set<string>();
  private cronPartitions = new Set<number>();

  insert(job: Job): void {
    this.inserted.add(job);
  }

  update(job: Job): void {
    if (!this.inserted.has(job)) this.updated.add(job);
  }

  /** Its created or run time changed (with an update() in the same turn). */
  retime(job: Job): void {
    if (!this.inserted.has(job)) this.retimed.add(job);
  }

  delete(job: Job): void {
    if (this.inserted.delete(job)) return;
    this.updated.delete(job);
    this.retimed.delete(job);
    this.deleted.push(idOf(job));
  }

  queue(settings: QueueSettings): void {
    this.queues.set(settings.name, settings);
  }

  /** A command created or replaced a cron (`movedFrom`: the partition its old queue was in). */
  cronUpsert(view: CronView, movedFrom = -1): void {
    this.cronsDeleted.delete(view.name);
    this.cronsUpserted.set(view.name, view);
    this.cronsRewritten.add(view.name);
    if (movedFrom >= 0) this.cronPartitions.add(movedFrom);
  }

  /** The clock fired a cron whose next run was `prev`. */
  cronFired(view: CronView, prev: number): void {
    this.cronsDeleted.delete(view.name);
    this.cronsUpserted.set(view.name, view);
    if (this.cronsRewritten.has(view.name)) return; // its stored row is rewritten whole anyway
    const earlier = this.cronsFired.get(view.name);
    if (earlier !== undefined) earlier.next = view.nextRun;
    else this.cronsFired.set(view.name, { name: view.name, partition: partitionOf(view.queue), prev, next: view.nextRun });
  }

  cronDelete(name: string, partition: number): void {
    this.cronsUpserted.delete(name);
    this.cronsDeleted.add(name);
    this.cronsRewritten.add(name);
    this.cronPartitions.add(partition);
  }

  seq(partition: number, seq: number): void {
    this.seqs.set(partition, seq);
  }

  take(): Changes {
    const out: Changes = {
      inserted: [...this.inserted].map(viewOf),
      updated: [...this.updated].map(viewOf),
      deleted: this.deleted,
      retimed: this.retimed.size === 0 ? NO_IDS : [...this.retimed].map(idOf),
      queues: [...this.queues.values()],
      cronsUpserted: [...this.cronsUpserted.values()],
      cronsDeleted: [...this.cronsDeleted],
      seqs: [...this.seqs].map(([partition, seq]) => ({ partition, seq })),
      cronsFired: this.cronsFired.size === 0 ? NO_FIRINGS : [...this.cronsFired.values()],
      cronPartitions: this.cronPartitions.size === 0 ? NO_IDS : [...this.cronPartitions],
    };
    if (out.inserted.length > 0) this.inserted = new Set();
    if (out.updated.length > 0) this.updated = new Set();
    this.deleted = [];
    if (this.retimed.size > 0) this.retimed = new Set();
    if (out.queues.length > 0) this.queues.clear();
    if (out.cronsUpserted.length > 0) this.cronsUpserted.clear();
    if (out.cronsDeleted.length > 0) this.cronsDeleted.clear();
    if (out.seqs.length > 0) this.seqs.clear();
    if (this.cronsFired.size > 0) this.cronsFired = new Map();
    if (this.cronsRewritten.size > 0) this.cronsRewritten.clear();
    if (this.cronPartitions.size > 0) this.cronPartitions.clear();
    return out;
  }

  /**
   * Forget what the turn recorded for partitions the engine dropped (`gone[p]` = 1): the next
   * owner reloads them from what was committed, and this node may no longer write them.
   */
  forgetPartitions(gone: Uint8Array): void {
    const keep = (job: Job) => gone[job.q.partition] !== 1;
    this.inserted = new Set([...this.inserted].filter(keep));
    this.updated = new Set([...this.updated].filter(keep));
    this.retimed = new Set([...this.retimed].filter(keep));
    this.deleted = this.deleted.filter((id) => gone[partitionOfId(id)] !== 1);
    for (const name of [...this.queues.keys()]) if (gone[partitionOf(name)] === 1) this.queues.delete(name);
    for (const [name, v] of [...this.cronsUpserted]) if (gone[partitionOf(v.queue)] === 1) this.cronsUpserted.delete(name);
    for (const [name, f] of [...this.cronsFired]) if (gone[f.partition] === 1) this.cronsFired.delete(name);
    for (const p of [...this.cronPartitions]) if (gone[p] === 1) this.cronPartitions.delete(p);
    for (const p of [...this.seqs.keys()]) if (gone[p] === 1) this.seqs.delete(p);
  }
}
