import type { ShardToFront } from './messages.js';

/**
 * Where a shard's output goes. The worker adapter packs it into ring frames; the inline adapter
 * (SHARDS=0) hands it straight to the front. Everything added during one turn leaves together.
 */
export interface Outbox {
  /** `code` 0 = ok, else the ErrorCode of the failure (the front maps it to HTTP/gRPC statuses). */
  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void;
  /**
   * one job event: its type (index in EVENT_TYPES), its JSON object, and where its queue name sits
   * in that text [qs, qe) (queue names are ASCII, so bytes and characters count alike)
   */
  event(type: number, qs: number, qe: number, json: string): void;
  /** a message for another shard, routed by the front */
  shardMsg(target: number, json: string): void;
  /** a message for the front itself */
  control(msg: ShardToFront): void;
  /** end of turn: send what was added */
  flush(): void;
}
