import type { ParentStatus } from '../engine/types.js';

/**
 * Every message that is not a request or an answer: between the main thread and a shard (CONTROL
 * records, both ways), between shards (SHARD_MSG records, routed by the front), and from a worker
 * thread's start-up (its port). Each side dispatches them in one switch: the shard in
 * Shard.control/shardMessage, the front in Server's control handler and WorkerLink.
 */

/** CONTROL records: `store` goes from a shard to the front, the others from the front to shards. */
export type ControlMessage =
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

export type ControlOp = ControlMessage['op'];
/** What the front sends a shard, and what a shard sends the front. */
export type FrontToShard = Extract<ControlMessage, { op: 'events' | 'drain' | 'stop' | 'rewatch' }>;
export type ShardToFront = Extract<ControlMessage, { op: 'store' }>;

const OPS: ReadonlySet<string> = new Set<ControlOp>(['events', 'drain', 'stop', 'rewatch', 'store']);

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

/** SHARD_MSG records: shards asking each other about parents that live elsewhere. */
export type ShardMessage =
  | { t: 'watch'; parent: number; partition: number; from: number }
  | { t: 'watched'; parent: number; status: ParentStatus }
  | { t: 'dep'; parent: number; outcome: 'completed' | 'failed' }
  /** the sender rebuilt its engine from the store: watch again the parents it owns */
  | { t: 'rewatch'; owner: number };

/** What a shard worker thread posts on its port (everything else crosses the rings). */
export type WorkerNotice =
  | { t: 'ready' }
  | { t: 'failed'; error: string }
  /** an answer larger than any ring frame */
  | { t: 'answer'; conn: number; seq: number; code: number; bytes: Uint8Array };
