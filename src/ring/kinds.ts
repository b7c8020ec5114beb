/**
 * Record kinds carried in ring frames. The ring itself never looks at them; front and shard
 * dispatch on them. Values are part of the in-process wire, so add, never renumber.
 */
export const Kind = Object.freeze({
  /** front → shard: raw request bytes of one client request */
  REQUEST: 1,
  /** shard → front: ready-to-write answer bytes for one request */
  ANSWER: 2,
  /** front → shard: a client connection closed (cancel its blocking pulls, fail its leases) */
  CONN_CLOSED: 3,
  /** shard → front: a job event for subscribers (WS/SSE/webhooks) */
  EVENT: 4,
  /** shard ↔ shard via the front: cross-partition work (dependencies, fan-out parts) */
  SHARD_MSG: 5,
  /** either way: lifecycle and settings (start, stop, flush, config) */
  CONTROL: 6,
} as const);

export type Kind = (typeof Kind)[keyof typeof Kind];
