import type { EngineState } from './state.js';
import { CHILDREN, COMPLETED, FAILED, GONE, type Job, extraOf, idOf } from './job.js';
import { partitionOfId } from './partition.js';
import type { ParentStatus } from './types.js';

type Outcome = 'completed' | 'failed';

/** A parent's status as seen by a child about to depend on it. */
export function statusOf(job: Job | undefined): ParentStatus {
  if (job === undefined || job.st === GONE) return 'unknown';
  if (job.st === COMPLETED) return 'completed';
  if (job.st === FAILED) return 'failed';
  return 'pending';
}

/**
 * Parent → child links. A local parent lists its waiting children (so resolving it costs
 * O(children)) and the partitions of other engines that watch it; children waiting on a parent
 * owned elsewhere are indexed by that parent's id until its notice arrives.
 */
export class Dependencies {
  /** remote parent id → local children waiting on it */
  readonly remoteWaits = new Map<number, Job[]>();
  /** outcomes of remote parents that arrived before any child waited on them (bounded) */
  private readonly early = new Map<number, Outcome>();
  /** parents whose outcome still has to reach their children (see settle) */
  private readonly settling: Array<Job | Outcome> = [];
  private settlingNow = false;

  constructor(private readonly c: EngineState) {}

  /**
   * A parent reached an outcome: tell local children (which may fail in turn, cascading) and the
   * partitions that watch it. Iterative, so a long chain cannot overflow the stack.
   */
  settle(parent: Job, outcome: Outcome, now: number): void {
    const x = parent.x;
    if (x === null || (x.children === null && x.watchers === null)) return;
    this.settling.push(parent, outcome);
    if (this.settlingNow) return;
    this.settlingNow = true;
    try {
      while (this.settling.length > 0) {
        const out = this.settling.pop() as Outcome;
        const p = this.settling.pop() as Job;
        const px = p.x!;
        const children = px.children;
        const watchers = px.watchers;
        px.children = null;
        px.watchers = null;
        const id = idOf(p);
        if (watchers !== null) for (const w of watchers) this.c.fx.notice(id, out, w);
        if (children !== null) for (const child of children) this.parentDone(child, id, out, now);
      }
    } finally {
      this.settlingNow = false;
    }
  }

  /** One parent of `child` (local or remote) is done. */
  parentDone(child: Job, parentId: number, outcome: Outcome, now: number): void {
    if (child.st !== CHILDREN) return; // cancelled, expired or failed through another parent
    const c = this.c;
    if (outcome === 'failed') {
      c.leave(child);
      c.toDlq(child, `Dependency ${parentId} failed`, now, false);
      return;
    }
    const x = child.x!;
    if (--x.waitingOn > 0) return;
    c.leave(child);
    c.enterRunnable(child, now);
    if (c.persist) c.changes.update(child);
  }

  /** Record that `child` waits on a pending parent (`local` when this engine owns it). */
  waitOn(child: Job, parentId: number, local: Job | undefined): void {
    extraOf(child).waitingOn++;
    if (local !== undefined) {
      (extraOf(local).children ??= []).push(child);
      return;
    }
    let list = this.remoteWaits.get(parentId);
    if (list === undefined) this.remoteWaits.set(parentId, (list = []));
    list.push(child);
  }

  /**
   * A child keeps waiting on a parent whose partition this engine dropped: the parent is remote
   * now, and its new owner's notice (after a re-watch) releases the child.
   */
  awaitRemote(child: Job, parentId: number): void {
    let list = this.remoteWaits.get(parentId);
    if (list === undefined) this.remoteWaits.set(parentId, (list = []));
    list.push(child);
  }

  /** Forget children that left every structure (their partition was dropped). */
  forgetGone(): void {
    for (const [parentId, children] of this.remoteWaits) {
      let live = 0;
      for (const child of children) if (child.st !== GONE) children[live++] = child;
      children.length = live;
      if (live === 0) this.remoteWaits.delete(parentId);
    }
  }

  /** A remote parent's status as answered, corrected by a notice that arrived meanwhile. */
  remoteStatus(parentId: number, answered: ParentStatus): ParentStatus {
    return answered === 'pending' ? (this.early.get(parentId) ?? 'pending') : answered;
  }

  /** Another partition asks about a parent owned here; a pending one will notify it. */
  watch(parentId: number, watcherPartition: number): ParentStatus {
    const job = this.c.find(parentId);
    const status = statusOf(job);
    if (status === 'pending') {
      const w = (extraOf(job!).watchers ??= []);
      if (!w.includes(watcherPartition)) w.push(watcherPartition);
    }
    return status;
  }

  /** A remote parent's notice arrived. */
  resolved(parentId: number, outcome: Outcome, now: number): void {
    const children = this.remoteWaits.get(parentId);
    if (children === undefined) {
      // it overtook the push it was watched for: remember it for that push (bounded)
      if (this.early.size >= 10_000) this.early.delete(this.early.keys().next().value!);
      this.early.set(parentId, outcome);
      return;
    }
    this.remoteWaits.delete(parentId);
    for (const child of children) this.parentDone(child, parentId, outcome, now);
  }

  /** Remote parents still awaited by a local job in waiting-children (`watcher`: the partition of one). */
  pending(): Array<{ parentId: number; partition: number; watcher: number }> {
    const out: Array<{ parentId: number; partition: number; watcher: number }> = [];
    for (const [parentId, children] of this.remoteWaits) {
      const waiting = children.find((j) => j.st === CHILDREN);
      if (waiting !== undefined) out.push({ parentId, partition: partitionOfId(parentId), watcher: waiting.q.partition });
      else this.remoteWaits.delete(parentId);
    }
    return out;
  }
}
