/**
 * Where a shard's output goes. The worker adapter packs it into ring frames; the inline adapter
 * (SHARDS=0) hands it straight to the front. Everything added during one turn leaves together.
 */
export interface Outbox {
  /** `code` 0 = ok, else the ErrorCode of the failure (the front maps it to HTTP/gRPC statuses). */
  answer(conn: number, seq: number, code: number, bytes: Uint8Array): void;
  /** a JSON array of events (one record per turn) */
  events(json: string): void;
  /** a message for another shard, routed by the front */
  shardMsg(target: number, json: string): void;
  /** a message for the front itself (control answers) */
  control(json: string): void;
  /** end of turn: send what was added */
  flush(): void;
}

/** Durable store as the shard sees it (src/store implements it for PostgreSQL). */
export interface ShardStore {
  /** commit one turn's changes in one transaction */
  commit(changes: import('../engine/types.js').Changes): Promise<void>;
  /** whether state-changing commands may be accepted right now */
  readonly available: boolean;
  close(): Promise<void>;
  /** load committed state into the shard's engine at start */
  recover?(core: import('./core.js').ShardCore): Promise<void>;
}
