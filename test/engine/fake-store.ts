import { JobRows } from '../../src/engine/job-rows.js';
import type { RestoreInput, RestoredJob } from '../../src/engine/api.js';
import { snapshotJob } from '../../src/engine/job.js';
import type { Changes, CronView, JobView, QueueSettings } from '../../src/engine/types.js';

/** What the store keeps: the last view of every job, settings, crons and sequences. */
export class FakeStore {
  jobs = new Map<number, JobView>();
  queues = new Map<string, QueueSettings>();
  crons = new Map<string, CronView>();
  seqs = new Map<number, number>();

  apply(ch: Changes): void {
    for (const v of [...ch.inserted, ...ch.updated]) this.jobs.set(v.id, snapshotJob(v));
    for (const id of ch.deleted) this.jobs.delete(id);
    for (const s of ch.queues) this.queues.set(s.name, s);
    for (const c of ch.cronsUpserted) this.crons.set(c.name, c);
    for (const n of ch.cronsDeleted) this.crons.delete(n);
    for (const { partition, seq } of ch.seqs) this.seqs.set(partition, seq);
  }

  input(): RestoreInput {
    return {
      jobs: JobRows.of([...this.jobs.values()].map(toRestored)),
      queues: [...this.queues.values()],
      crons: [...this.crons.values()],
      seqs: [...this.seqs].map(([partition, seq]) => ({ partition, seq })),
    };
  }
}

export function toRestored(v: JobView): RestoredJob {
  if (v.state === 'unknown') throw new Error('unknown jobs are not stored');
  return {
    id: v.id,
    queue: v.queue,
    state: v.state,
    data: v.data,
    priority: v.priority,
    delay: v.runAt - v.createdAt,
    ttl: v.ttl,
    timeout: v.timeout,
    maxAttempts: v.maxAttempts,
    backoff: v.backoff,
    uniqueKey: v.uniqueKey,
    dependsOn: [...v.dependsOn],
    tags: [...v.tags],
    lifo: v.lifo,
    createdAt: v.createdAt,
    runAt: v.runAt,
    startedAt: v.startedAt,
    attempts: v.attempts,
    progress: v.progress,
    progressMsg: v.progressMsg,
    result: v.result,
    error: v.error,
    finishedAt: v.finishedAt,
  };
}

