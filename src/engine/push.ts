import { errors } from '../base/errors.js';
import type { EngineState } from './state.js';
import { statusOf } from './dependencies.js';
import { type Job, JobRef, extraOf, idOf, jobText, newJob } from './job.js';
import { latin1Text } from '../base/bytes.js';
import { attemptsOf, backoffOf } from './job-defaults.js';
import { validateQueueName } from './names.js';
import type { Queue } from './queue.js';
import type { JobInput, JobView, ParentStatus } from './types.js';

type Remote = ReadonlyMap<number, ParentStatus> | undefined;
/** every parent of the batch with its status as of the push (before any job of it is applied) */
type Parents = ReadonlyMap<number, ParentStatus> | undefined;

/** PUSH / PUSHB: the batch is validated whole, then every job is inserted. */
export function pushJobs(c: EngineState, queue: string, jobs: JobInput[], now: number, remote: Remote): JobView[] {
  let q = c.queues.get(queue);
  if (q === undefined) {
    validateQueueName(queue);
    c.checkQueue(queue);
  }
  let parents: Parents;
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    if (j.uniqueKey != null || j.dependsOn.length > 0) {
      parents = validateBatch(c, q, jobs, remote);
      break;
    }
  }
  if (jobs.length === 0) return [];
  if (q === undefined) q = c.queue(queue);
  const out = new Array<JobView>(jobs.length);
  // pinned: a job failing at once (failed parent) and evicted at once (keepCompleted 0) must
  // not let the queue be forgotten halfway through the batch
  q.jobs++;
  for (let i = 0; i < jobs.length; i++) out[i] = new JobRef(insertJob(c, q, jobs[i]!, now, parents));
  q.jobs--;
  c.maybeForget(q);
  if (c.persist) c.changes.seq(q.partition, c.seqs[q.partition]!);
  return out;
}

/**
 * Unique keys (within the batch and against live jobs) and parents, before anything is applied.
 * Returns the parents' statuses, taken now: applying the batch may evict a failed parent from
 * retention halfway, and the jobs after that must still see it failed.
 */
function validateBatch(c: EngineState, q: Queue | undefined, jobs: JobInput[], remote: Remote): Parents {
  let seen: Set<string> | null = null;
  let parents: Map<number, ParentStatus> | undefined;
  for (const j of jobs) {
    const key = j.uniqueKey;
    if (key != null) {
      if (c.keyHolder(q, key) !== undefined) throw errors.duplicate(key);
      seen ??= new Set();
      if (seen.has(key)) throw errors.duplicate(key);
      seen.add(key);
    }
    for (const id of j.dependsOn) {
      let status: ParentStatus | undefined;
      if (c.isLocalId(id)) status = statusOf(c.find(id));
      else if (Number.isSafeInteger(id) && id > 0) {
        status = remote?.get(id);
        if (status === undefined) throw errors.internal(`status of remote parent ${id} was not supplied`);
        status = c.deps.remoteStatus(id, status);
      }
      if (status === undefined || status === 'unknown') throw errors.jobNotFound(id);
      (parents ??= new Map()).set(id, status);
    }
  }
  return parents;
}

/** The payload text of an input (decoded as a span of its request, or a string). */
function inputText(j: JobInput): string {
  return j.block != null ? latin1Text(j.block, j.ds!, j.de!) : j.data;
}

/** Create one (validated) job in queue `q` and put it where it belongs. */
export function insertJob(c: EngineState, q: Queue, j: JobInput, now: number, parents: Parents): Job {
  const p = q.partition;
  const seq = ++c.seqs[p]!;
  const o = c.opts.get(
    j.priority,
    j.lifo === true,
    attemptsOf(j.maxAttempts),
    backoffOf(j.backoff),
    j.ttl > 0 ? j.ttl : 0,
    j.timeout > 0 ? j.timeout : 0,
  );
  const delay = j.delay > 0 ? j.delay : 0;
  const block = j.block;
  // a job that starts delayed or waiting on parents may outlive its batch: it gets its own text
  const span = block != null && delay === 0 && j.dependsOn.length === 0;
  const job = span ? newJob(seq, q, block, j.ds!, j.de!, o, now, 0, 0) : newJob(seq, q, inputText(j), 0, 0, o, now, delay, 0);
  c.tables[p]!.set(seq, job);
  q.jobs++;
  c.counters.totalPushed++;
  if (o.ttl > 0) c.expiries.push(now + o.ttl, job);
  if (c.persist) c.changes.insert(job);
  if (c.fx.eventsOn) c.fx.event('job.pushed', q, idOf(job), now, jobText(job), null, null);
  const deps = j.dependsOn;
  if (j.uniqueKey != null || j.tags.length > 0 || deps.length > 0) {
    const x = extraOf(job);
    if (j.uniqueKey != null) {
      x.uniqueKey = j.uniqueKey;
      c.claimKey(job);
    }
    if (j.tags.length > 0) x.tags = Object.freeze(j.tags.slice());
    if (deps.length > 0) {
      x.dependsOn = Object.freeze([...new Set(deps)]);
      const failed = linkParents(c, job, x.dependsOn, parents!);
      if (failed !== 0) {
        c.toDlq(job, `Dependency ${failed} failed`, now, false);
        return job;
      }
      if (x.waitingOn > 0) {
        c.enterChildren(job);
        return job;
      }
    }
  }
  if (delay > 0) c.enterDelayed(job, now + delay);
  else c.enterReady(job);
  return job;
}

/** Link a new job to its pending parents; returns the id of a failed parent, or 0. */
function linkParents(c: EngineState, job: Job, ids: readonly number[], parents: ReadonlyMap<number, ParentStatus>): number {
  for (const id of ids) if (parents.get(id) === 'failed') return id;
  for (const id of ids) if (parents.get(id) === 'pending') c.deps.waitOn(job, id, c.find(id));
  return 0;
}
