import { type Job, idOf, viewOf } from './job.js';
import type { Changes, CronView, QueueSettings } from './types.js';

const NO_IDS: number[] = [];

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

  cronUpsert(view: CronView): void {
    this.cronsDeleted.delete(view.name);
    this.cronsUpserted.set(view.name, view);
  }

  cronDelete(name: string): void {
    this.cronsUpserted.delete(name);
    this.cronsDeleted.add(name);
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
    };
    if (out.inserted.length > 0) this.inserted = new Set();
    if (out.updated.length > 0) this.updated = new Set();
    this.deleted = [];
    if (this.retimed.size > 0) this.retimed = new Set();
    if (out.queues.length > 0) this.queues.clear();
    if (out.cronsUpserted.length > 0) this.cronsUpserted.clear();
    if (out.cronsDeleted.length > 0) this.cronsDeleted.clear();
    if (out.seqs.length > 0) this.seqs.clear();
    return out;
  }
}
