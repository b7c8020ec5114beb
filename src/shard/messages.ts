import type { ParentStatus } from '../engine/types.js';

/**
 * Every message that is not a request or an answer: between the main thread and a shard (CONTROL
 * records, both ways), between shards (SHARD_MSG records, routed by the front), and from a worker
 * thread's start-up (its port). Each side dispatches them in one switch: the shard in
 * Shard.control/shardMessage, the front in Server's control handler and WorkerLink.
 */

/** CONTROL records: `store` and the partition reports go from a shard to the front, the others from the front to shards. */
export type ControlMessage = BaseControl | PartitionControl | PartitionReport;

type BaseControl =
  /** switch event production; `queues` null = every queue */
  | { op: 'events'; on: boolean; queues: string[] | null }
  /** stopping: parked pulls answer now (no job) so every connection can close cleanly */
  | { op: 'drain' }
  /** answer what is queued, commit, then end (a worker thread exits) */
  | { op: 'stop' }
  /** every shard recovered and messages between shards flow: watch again the remote parents */
  | { op: 'rewatch' }
  /** shard → front: its store went up or down (/health `postgres_connected`) */
  | { op: 'store'; available: boolean };

/**
 * Cluster mode's CONTROL records (CLUSTER_MODE=1; the shard started with `ShardOptions.cluster`).
 * The front sends shard s only partitions p with p % count = s. Both kinds of shard (inline and
 * worker thread) handle them in `Shard.control`, the same as the records above.

 */
export type PartitionControl =
  /**
   * The node took these partitions (lease epochs, same order): load them from PostgreSQL behind
   * the fence, restore them into the live engine, then serve them and report `gained`. Until
   * then requests for them are answered `Partition P is not served by this node`.
   */
  | { op: 'gain'; partitions: number[]; epochs: number[] }
  /**
   * Stop serving these partitions: requests for them are refused from now on and blocked pulls on
   * their queues answer at once with no job; once the commits in flight have settled, every piece
   * of their state is dropped and `lost` reported. Partitions still loading are cancelled.
   * `returnLeases` (a planned move: the lease is held until `lost`): their active jobs wait again
   * first, the delivery not counted as an attempt, committed before the drop.
   */
  | { op: 'lose'; partitions: number[]; returnLeases?: boolean };

export type PartitionReport =
  /** shard → front: these partitions are served now (route their requests here) */
  | { op: 'gained'; partitions: number[] }
  /** shard → front: loading them failed (PostgreSQL, the fence refused, or already held); not served */
  | { op: 'gainFailed'; partitions: number[]; error: string }
  /** shard → front: answer to `lose`, once nothing of them is left here (the lease may go) */
  | { op: 'lost'; partitions: number[] }
  /**
   * shard → front: a commit was refused because another node holds these partitions now (or a
   * cron of theirs fired elsewhere); they were dropped here at once and are not served
   */
  | { op: 'fenced'; partitions: number[] };

export type ControlOp = ControlMessage['op'];
/** What the front sends a shard, and what a shard sends the front. */
export type FrontToShard = Extract<ControlMessage, { op: 'events' | 'drain' | 'stop' | 'rewatch' | 'gain' | 'lose' }>;
export type ShardToFront = Extract<ControlMessage, { op: 'store' | 'gained' | 'gainFailed' | 'lost' | 'fenced' }>;

const OPS: ReadonlySet<string> = new Set<ControlOp>([
  'events', 'drain', 'stop', 'rewatch', 'store', 'gain', 'lose', 'gained', 'gainFailed', 'lost', 'fenced',
]);

export function encodeControl(msg: ControlMessage): string {
  return JSON.stringify(msg);
}

/** Both sides are this server: a malformed message is a bug, reported with its text. */
export function decodeControl(json: string): ControlMessage {
  const msg = JSON.parse(json) as { op?: unknown };
  if (typeof msg !== 'object' || msg === null || typeof msg.op !== 'string' || !OPS.has(msg.op)) {
    throw new Error(`unknown control message: ${json.slice(0, 200)}`);
  }
  return msg as ControlMessage;
}

/**
 * SHARD_MSG records: shards asking each other about parents that live elsewhere. A record is
 * addressed to a partition (the ring record's conn field, the link's target), never to a shard:
 * the front delivers it to whoever serves that partition now (a local shard, or in cluster mode
 * the owner node over the internal link), so a message outlives its partition moving.
 */
export type ShardMessage =
  /** to the parent's partition: report its status to the child's partition, and notify it when it ends */
  | { t: 'watch'; parent: number; partition: number }
  /** to the child's partition (`partition`): the parent's status when it was watched */
  | { t: 'watched'; parent: number; partition: number; status: ParentStatus }
  /** to the child's partition (`partition`): the parent reached its outcome */
  | { t: 'dep'; parent: number; partition: number; outcome: 'completed' | 'failed' }
  /** to ALL_PARTITIONS: these partitions were (re)loaded from the store: watch again their parents */
  | { t: 'rewatch'; partitions: number[] };

/** SHARD_MSG target meaning every shard (in cluster mode every shard of every node); the link's NODE_WIDE. */
export const ALL_PARTITIONS = 0xffff;

/** What a shard worker thread posts on its port (everything else crosses the rings). */
export type WorkerNotice =
  | { t: 'ready' }
  | { t: 'failed'; error: string }
  /** an answer larger than any ring frame */
  | { t: 'answer'; conn: number; seq: number; code: number; bytes: Uint8Array };
