import type { RestoreInput, RestoredJob } from './api.js';
import { CONNECTION_LOST, type EngineState, TTL_EXPIRED } from './state.js';
import { attemptsOf, backoffOf } from './job-defaults.js';
import { ACTIVE, CHILDREN, COMPLETED, FAILED, type Job, extraOf, keyOf, newJob, setStamp } from './job.js';
import { isValidName } from './names.js';
import { partitionOf, partitionOfId, seqOfId } from './partition.js';
import { errors } from '../base/errors.js';
import { TokenBucket } from './rate-limit.js';
import { PARTITIONS } from './types.js';

/**
 * Load stored state into an empty engine. Loading itself records no changes; what recovery then
 * decides (leases lost while down, children released or failed, retention trimmed) does.
 */
export function restore(c: EngineState, input: RestoreInput, now: number): void {
  const mask = new Uint8Array(PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) if (c.owns(p)) mask[p] = 1;
  restorePartitions(c, mask, input, now);
}

/**
 * Load the stored state of the partitions marked in `mask` (held, with empty tables) into the
 * engine, which may be serving other partitions meanwhile: a cluster shard taking partitions
 * over restores them exactly as a start would. Rows of other partitions in `input` are ignored.
 */
export function restorePartitions(c: EngineState, mask: Uint8Array, input: RestoreInput, now: number): void {
  for (const { partition, seq } of input.seqs) {
    if (mask[partition] === 1 && seq > c.seqs[partition]!) c.seqs[partition] = seq;
  }
  for (const s of input.queues) {
    if (!isValidName(s.name) || mask[partitionOf(s.name)] !== 1) continue;
    const q = c.queue(s.name, true);
    q.paused = s.paused;
    q.rate = s.rateLimit !== null && s.rateLimit > 0 ? new TokenBucket(s.rateLimit, now) : null;
    q.concurrency = s.concurrencyLimit !== null && s.concurrencyLimit > 0 ? s.concurrencyLimit : 0;
  }

  const rows = input.jobs.filter((r) => mask[partitionOfId(r.id)] === 1).sort((a, b) => a.id - b.id);
  const waiting: Array<[Job, RestoredJob]> = [];
  const children: Job[] = [];
  const lost: Job[] = [];
  const finished: Array<[Job, RestoredJob]> = [];
  const live: Job[] = [];
  for (const r of rows) {
    const p = partitionOfId(r.id);
    if (partitionOf(r.queue) !== p) throw errors.internal(`stored job ${r.id} of queue ${r.queue} is in the wrong partition`);
    const q = c.queue(r.queue, true);
    const seq = seqOfId(r.id);
    if (seq > c.seqs[p]!) c.seqs[p] = seq;
    const o = c.opts.get(r.priority, r.lifo, attemptsOf(r.maxAttempts), backoffOf(r.backoff), Math.max(0, r.ttl), Math.max(0, r.timeout));
    const job = newJob(seq, q, r.data, 0, 0, o, r.createdAt, r.runAt - r.createdAt, r.attempts);
    if (r.uniqueKey !== null || r.dependsOn.length > 0 || r.tags.length > 0 || r.progress !== 0 || r.progressMsg !== null || r.result !== null || r.error !== null) {
      const x = extraOf(job);
      x.uniqueKey = r.uniqueKey;
      x.dependsOn = Object.freeze([...new Set(r.dependsOn)]);
      x.tags = Object.freeze(r.tags.slice());
      x.progress = r.progress;
      x.progressMsg = r.progressMsg;
      x.result = r.result;
      x.error = r.error;
    }
    c.tables[p]!.set(seq, job);
    q.jobs++;
    const undelivered = r.state === 'waiting' || r.state === 'delayed' || r.state === 'waiting-children';
    if (undelivered || r.state === 'active') {
      live.push(job);
      // an active one is about to be failed back and may be retried: its ttl still counts
      if (o.ttl > 0) c.expiries.push(job.created + o.ttl, job);
    }
    switch (r.state) {
      case 'waiting':
        waiting.push([job, r]);
        break;
      case 'delayed':
        c.enterDelayed(job, r.runAt);
        break;
      case 'waiting-children':
        c.enterChildren(job);
        children.push(job);
        break;
      case 'active':
        job.st = ACTIVE;
        setStamp(job, r.startedAt - r.createdAt);
        q.active++;
        c.stats.processing++;
        lost.push(job);
        break;
      case 'completed':
      case 'failed':
        finished.push([job, r]);
        break;
    }
  }

  // ready order: arrival at the ready queue (run time), then push order
  waiting.sort(([a, ra], [b, rb]) => ra.runAt - rb.runAt || a.seq - b.seq);
  for (const [job] of waiting) c.enterReady(job);
  finished.sort(([a, ra], [b, rb]) => ra.finishedAt - rb.finishedAt || a.seq - b.seq);
  for (const [job, r] of finished) {
    setStamp(job, r.finishedAt - r.createdAt);
    job.st = r.state === 'completed' ? COMPLETED : FAILED;
    if (job.st === FAILED) {
      job.q.dlq.add(job);
      c.stats.dlq++;
    }
    c.retention.add(job);
  }

  // unique keys: live jobs first, then DLQ entries whose key was not released at ttl expiry
  for (const job of live) claimIfFree(c, job);
  for (const [job] of finished) if (job.st === FAILED && job.x?.error !== TTL_EXPIRED) claimIfFree(c, job);

  // dependency links, then what they decide
  const failedParent = new Map<Job, number>();
  for (const child of children) {
    for (const pid of child.x!.dependsOn) {
      if (!c.isLocalId(pid)) {
        c.deps.waitOn(child, pid, undefined);
        continue;
      }
      const parent = c.find(pid);
      // a parent gone from the store was completed and evicted (a cancel would have failed the child)
      if (parent === undefined || parent.st === COMPLETED) continue;
      if (parent.st === FAILED) {
        if (!failedParent.has(child)) failedParent.set(child, pid);
        continue;
      }
      c.deps.waitOn(child, pid, parent);
    }
  }
  for (const child of children) {
    if (child.st !== CHILDREN) continue;
    const pid = failedParent.get(child);
    if (pid !== undefined) {
      c.leave(child);
      c.toDlq(child, `Dependency ${pid} failed`, now, false);
    } else if (child.x === null || child.x.waitingOn === 0) {
      c.leave(child);
      c.enterRunnable(child, now);
      if (c.persist) c.changes.update(child);
    }
  }

  // leases held when the server stopped are lost: the attempt was spent
  for (const job of lost) if (job.st === ACTIVE) c.failAttempt(job, CONNECTION_LOST, now, true);

  while (c.retention.over()) {
    const old = c.retention.evictOne();
    if (old !== null) c.evict(old);
  }

  for (const cr of input.crons) {
    if (!isValidName(cr.name) || !isValidName(cr.queue) || mask[partitionOf(cr.queue)] !== 1) continue;
    const q = c.queue(cr.queue, true);
    q.crons++;
    const old = c.crons.set({ name: cr.name, queue: cr.queue, schedule: cr.schedule, data: cr.data, priority: cr.priority, nextRun: cr.nextRun });
    if (old !== undefined) {
      const oq = c.queues.get(old.queue)!;
      oq.crons--;
      c.maybeForget(oq);
    }
  }

  for (let p = 0; p < PARTITIONS; p++) if (mask[p] === 1) c.tables[p]?.settle();
  for (const q of [...c.queues.values()]) if (mask[q.partition] === 1) c.maybeForget(q);
}

function claimIfFree(c: EngineState, job: Job): void {
  const key = keyOf(job);
  if (key !== null && c.keyHolder(job.q, key) === undefined) c.claimKey(job);
}
