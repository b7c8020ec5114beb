import { JobRows } from '../engine/job-rows.js';
import type { RestoreInput } from '../engine/api.js';
import { partitionOf } from '../engine/partition.js';
import type { Changes } from '../engine/types.js';
import { log } from '../log.js';
import { connect, errorText, type Sql } from './connection.js';
import { GroupCommit, StoreTimeout, withTimeout } from './group-commit.js';
import { CommitRefused, isFenceError, refusedPartitions, type Hold } from './fence.js';
import { loadPartitions, loadShard } from './recovery.js';
import { writeTransaction, type CommitFence, type Ownership } from './transaction.js';
import { isEmptyChanges, type WriteSet } from './write-set.js';

export interface ShardStoreConfig {
  url: string;
  persist: 'sync' | 'async';
  /** ms a transaction or probe may take before PostgreSQL counts as down (default 10 s) */
  timeoutMs?: number;
  /** ms a full reload of the shard's jobs may take (default 5 min: a million jobs read in ~10 s) */
  loadTimeoutMs?: number;
}

/** Which shard a store belongs to (it loads and writes only the partitions that shard owns). */
export interface StoreOwner {
  index: number;
  count: number;
  /** completed + failed jobs the whole server keeps (each shard loads its share) */
  keepCompleted: number;
  /**
   * Cluster mode: the store loads nothing at start, reloads only the partitions its shard serves,
   * and fences every commit with their epochs (`idleMs` bounds a stalled transaction).
   */
  cluster?: { nodeId: string; idleMs: number } | null;
}

/** What a cluster shard tells its store about the partitions it serves. */
export interface PartitionKeeper {
  /** the epoch this node holds partition p at, while its shard may still write it (else -1) */
  epochOf(p: number): number;
  /** the partitions served now, with their epochs: a rebuild reloads exactly these */
  served(): Hold[];
  /** a commit was refused: another node holds these partitions now; stop serving them at once */
  fenced(partitions: number[]): void;
}

/**
 * How the store tells its shard what happened; the shard acts on it (the store knows nothing of
 * engines or other shards).
 */
export interface RecoveryListener {
  /**
   * The committed state to replace the engine with: at start (`rebuilt` false) and after a failed
   * commit left the engine ahead of the database. What restoring changes must be handed to
   * `commit` before this returns.
   */
  restore(input: RestoreInput, rebuilt: boolean): void;
  /** the store went up (recovered, or back after an outage) or down */
  availability(up: boolean): void;
  /** cluster mode only */
  partitions?: PartitionKeeper;
}

const EMPTY: RestoreInput = Object.freeze({ jobs: new JobRows(), queues: [], crons: [], seqs: [], partitions: [] }) as unknown as RestoreInput;

const PING_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LOAD_TIMEOUT_MS = 300_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * A shard's PostgreSQL store: group commit on the shard's own connection, recovery at start, and
 * the way back after a failure.
 *
 * States: `up` (available), `down` (PostgreSQL unreachable or a commit failed; state-changing
 * commands are refused, reads are served), `rebuilding` (reconnected; the engine is being
 * replaced by one loaded from the committed state). A failed commit leaves the engine ahead of
 * the database, so the way back from it is always a rebuild; an outage noticed by the idle ping,
 * with nothing applied meanwhile, only needs the connection back.
 */
export class PgShardStore {
  /** replaced when PostgreSQL stops answering on it (a hung connection is never reused) */
  private sql: Sql;
  private readonly url: string;
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly loadTimeoutMs: number;
  /** backend of the current connection, as last seen by a probe */
  private backendPid = 0;
  /** backends of replaced connections, terminated before the next rebuild reads */
  private stalePids: number[] = [];
  private readonly writer: GroupCommit;
  private readonly owner: Ownership;
  private readonly keepFinished: number;
  private listener: RecoveryListener | null = null;
  private state: 'starting' | 'up' | 'down' | 'rebuilding' = 'starting';
  private needsRebuild = false;
  private reconnecting = false;
  private closed = false;
  private pinging = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly fence: CommitFence | null;
  /** cluster mode: reads partitions taken over, beside the commits of the shard's connection */
  private loader: Sql | null = null;
  /** reloads (partitions taken over, rebuilds) run one at a time, each applied before the next */
  private loads: Promise<unknown> = Promise.resolve();

  constructor(opts: StoreOwner, cfg: ShardStoreConfig) {
    this.owner = { index: opts.index, count: opts.count };
    this.keepFinished = Math.max(1, Math.ceil(opts.keepCompleted / opts.count));
    this.url = cfg.url;
    this.name = `flashq-ts shard ${opts.index}`;
    this.timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.loadTimeoutMs = cfg.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    this.sql = this.connection();
    const cluster = opts.cluster ?? null;
    this.fence =
      cluster === null
        ? null
        : { nodeId: cluster.nodeId, idleMs: cluster.idleMs, epochOf: (p) => this.listener?.partitions?.epochOf(p) ?? -1 };
    this.writer = new GroupCommit({
      mode: cfg.persist,
      timeoutMs: this.timeoutMs,
      cluster: this.fence !== null,
      write: (ws) => (this.fence === null ? writeTransaction(this.sql, ws, this.owner, partitionOf) : this.writeFenced(ws)),
      onFailure: (err) => this.failed(err),
    });
  }

  /** A cluster commit; a refusal names the partitions another node holds now. */
  private async writeFenced(ws: WriteSet): Promise<void> {
    try {
      await writeTransaction(this.sql, ws, this.owner, partitionOf, this.fence);
    } catch (e) {
      if (isFenceError(e)) throw new CommitRefused(refusedPartitions(e) ?? ws.partitions ?? [], e);
      throw e;
    }
  }

  get available(): boolean {
    return this.state === 'up';
  }

  /** Transactions and turns committed so far (benchmarks report the merge ratio). */
  get stats(): GroupCommit['stats'] {
    return this.writer.stats;
  }

  /** Fails when PostgreSQL cannot be reached (the shard then refuses to start). */
  async open(): Promise<void> {
    await this.probe();
  }

  commit(changes: Changes): Promise<void> {
    // refused changes were applied in memory all the same: only a rebuild undoes them
    if (!this.writer.open && !isEmptyChanges(changes)) this.needsRebuild = true;
    return this.writer.commit(changes);
  }

  /** Start: load the committed state into the shard's engine and commit what restoring changed. */
  async recover(listener: RecoveryListener): Promise<void> {
    this.listener = listener;
    // a cluster shard starts empty: partitions come with `gain` (see loadTaken)
    const input = this.fence !== null ? EMPTY : await this.load();
    listener.restore(input, false);
    await this.writer.idle();
    if (!this.writer.open) throw new Error('committing the recovered state failed');
    this.state = 'up';
    listener.availability(true);
    log.info('store recovered', { jobs: input.jobs.count, queues: input.queues.length, crons: input.crons.length });
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
    this.pingTimer.unref();
  }

  /**
   * Cluster mode: read the partitions the node took (`holds`, at the epochs it took them) behind
   * the fence, and hand them to `apply` (synchronously, before any other reload starts). Rejects
   * when PostgreSQL fails or the fence refuses (another node holds one of them now).
   */
  loadTaken(holds: Hold[], apply: (input: RestoreInput) => void): Promise<void> {
    const fence = this.fence;
    if (fence === null) return Promise.reject(new Error('loadTaken is for cluster mode'));
    return this.serially(async () => {
      this.loader ??= connect(this.url, { max: 1, name: `${this.name} loader`, connectTimeout: Math.max(1, Math.ceil(this.timeoutMs / 1000)) });
      const loader = this.loader;
      try {
        const input = await withTimeout(loadPartitions(loader, holds, this.keepFinished, fence), this.loadTimeoutMs, 'a partition reload');
        apply(input);
      } catch (e) {
        if (e instanceof StoreTimeout && this.loader === loader) {
          this.loader = null;
          void loader.end({ timeout: 0 }).catch(() => {});
        }
        throw e;
      }
    });
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.loads.then(step, step);
    this.loads = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    await this.writer.idle();
    await this.loader?.end({ timeout: 2 }).catch(() => {});
    await this.sql.end({ timeout: 2 }).catch(() => {});
    log.info('store closed', { ...this.writer.stats });
  }

  // ------------------------------------------------------------ failure and way back

  private failed(err: Error): void {
    // refused partitions go at once; the others the failed commits touched come back by the rebuild
    if (err instanceof CommitRefused) this.listener?.partitions?.fenced(err.partitions);
    this.needsRebuild = true;
    if (err instanceof StoreTimeout) this.replaceConnection();
    this.goDown(err);
  }

  /** The shard's connection; connecting may take as long as a statement. */
  private connection(): Sql {
    return connect(this.url, { max: 1, name: this.name, connectTimeout: Math.max(1, Math.ceil(this.timeoutMs / 1000)) });
  }

  /** Drop a connection PostgreSQL stopped answering on; statements pending on it fail. */
  private replaceConnection(): void {
    const old = this.sql;
    if (this.backendPid !== 0) this.stalePids.push(this.backendPid);
    this.backendPid = 0;
    this.sql = this.connection();
    void old.end({ timeout: 0 }).catch(() => {});
  }

  /** A probe of the connection, failing with StoreTimeout (and replacing it) when PostgreSQL does not answer. */
  private async probe(): Promise<void> {
    try {
      const [row] = await withTimeout(this.sql<Array<{ pid: number }>>`select pg_backend_pid() as pid`, this.timeoutMs, 'a probe');
      this.backendPid = row!.pid;
    } catch (e) {
      if (e instanceof StoreTimeout) this.replaceConnection();
      throw e;
    }
  }

  /**
   * The shard's committed state, or a StoreTimeout after STORE_LOAD_TIMEOUT_MS: a reload stuck on
   * a lock or on a PostgreSQL that stopped answering must not hold the start or a rebuild forever.
   * Its connection is replaced (its backend is terminated before the next rebuild reads).
   */
  private async load(): Promise<RestoreInput> {
    const fence = this.fence;
    try {
      if (fence !== null) {
        const holds = this.listener?.partitions?.served() ?? [];
        return await withTimeout(loadPartitions(this.sql, holds, this.keepFinished, fence), this.loadTimeoutMs, 'the shard reload');
      }
      return await withTimeout(loadShard(this.sql, this.owner, this.keepFinished), this.loadTimeoutMs, 'the shard reload');
    } catch (e) {
      if (e instanceof StoreTimeout) this.replaceConnection();
      throw e;
    }
  }

  private goDown(err: unknown): void {
    if (this.closed) return;
    this.writer.pause();
    if (this.state === 'up' || this.state === 'starting') {
      log.error('storage unavailable', { error: errorText(err) });
      this.listener?.availability(false);
    }
    if (this.state !== 'starting') this.state = 'down';
    if (this.listener !== null && this.state === 'down') void this.reconnect();
  }

  /** While idle, notice an outage before a command does (and keep /health truthful). */
  private ping(): void {
    if (this.state !== 'up' || this.pinging || this.writer.busy) return;
    this.pinging = true;
    this.probe().then(
      () => {
        this.pinging = false;
      },
      (e: unknown) => {
        this.pinging = false;
        if (this.state === 'up') this.goDown(e);
      },
    );
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    let delay = RETRY_MIN_MS;
    try {
      while (!this.closed && this.state === 'down') {
        await new Promise((r) => setTimeout(r, delay).unref());
        if (this.closed) return;
        try {
          await this.writer.idle();
          await this.probe();
          const rebuild = this.needsRebuild;
          if (rebuild) await this.rebuild();
          else this.writer.reopen();
          if (this.writer.open) {
            this.state = 'up';
            log.info('storage available again', { rebuilt: rebuild });
            this.listener!.availability(true);
            return;
          }
        } catch (e) {
          log.debug('reconnect failed', { error: errorText(e) });
          this.state = 'down';
        }
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /**
   * A replaced connection's backend may still be inside a transaction (it hung, then woke up):
   * end it before reading, so what the rebuild reads is final.
   */
  private async endStaleBackends(): Promise<void> {
    if (this.stalePids.length === 0) return;
    const pids = this.stalePids;
    const list = `{${pids.join(',')}}`;
    await withTimeout(this.sql`select pg_terminate_backend(pid) from unnest(${list}::text::int[]) as pid`, this.timeoutMs, 'a terminate');
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const [row] = await withTimeout(
        this.sql<Array<{ n: number }>>`select count(*)::int as n from pg_stat_activity where pid = any(${list}::text::int[])`,
        this.timeoutMs,
        'a backend check',
      );
      if (row!.n === 0) break;
      if (Date.now() > deadline) throw new Error(`backends ${pids.join(', ')} of replaced connections are still running`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stalePids = [];
  }

  /** Replace the engine by one restored from what is committed. */
  private async rebuild(): Promise<void> {
    const listener = this.listener!;
    await this.endStaleBackends();
    // one reload at a time: a partition taken over meanwhile is applied before or after, whole
    const input = await this.serially(async () => {
      const loaded = await this.load();
      this.state = 'rebuilding';
      // from here on the turns are the new engine's: accept them (commands stay refused until up)
      this.needsRebuild = false;
      this.writer.reopen();
      listener.restore(loaded, true);
      return loaded;
    });
    await this.writer.idle();
    if (!this.writer.open) throw new Error('committing the rebuilt state failed');
    log.info('engine rebuilt from the store', { jobs: input.jobs.count });
  }
}

/** Opened by the shard (src/shard/durable.ts), inline or on its worker thread. */
export async function openPgShardStore(opts: StoreOwner, cfg: ShardStoreConfig): Promise<PgShardStore> {
  const store = new PgShardStore(opts, cfg);
  try {
    await store.open();
  } catch (e) {
    await store.close();
    throw new Error(`shard ${opts.index}: PostgreSQL unreachable: ${errorText(e)}`);
  }
  return store;
}
