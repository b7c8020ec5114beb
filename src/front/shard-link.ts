import type { Format } from '../protocol/result.js';
import type { ControlMessage } from '../shard/messages.js';

/**
 * The front's handle on one shard, whatever carries the bytes (a ring to a worker thread, or a
 * direct call when SHARDS=0). Records added during a turn leave together on `flush`.
 */
export interface ShardLink {
  readonly index: number;
  /** queue one record for this turn; `payload` is copied before this returns */
  add(kind: number, format: Format, conn: number, seq: number, payload: Uint8Array | string): void;
  /** send what was added this turn; false = the shard is full, stop reading sockets until `onDrain` */
  flush(): boolean;
  onDrain: (() => void) | null;
  /** stop the shard after it has answered everything and committed */
  close(): Promise<void>;
}

/** What a shard sends back, as the front receives it. */
export interface ShardOutput {
  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void;
  /**
   * one job event: type index (EVENT_TYPES), its JSON object buf[start, end) and its queue's bytes
   * buf[qs, qe); the bytes are valid during the call only
   */
  event(type: number, buf: Buffer, start: number, end: number, qs: number, qe: number): void;
  shardMsg(target: number, json: string): void;
  control(shard: number, msg: ControlMessage): void;
  /** a frame (a shard's turn) was fully delivered: write what the sinks buffered */
  turnDone(): void;
}
