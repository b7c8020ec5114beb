import { PARTITIONS } from '../engine/types.js';
import { log } from '../log.js';
import { NODE_WIDE } from './link/codec.js';

/** How ShardMail reaches the shards: this node's own, and the other nodes' through their links. */
export interface MailRoutes {
  readonly nodeId: string;
  /** the node partition p is routed to (this node only once its shard serves p), or null while it moves */
  ownerOf(partition: number): string | null;
  /** hand the message to the local shard serving p */
  toLocal(partition: number, json: string): void;
  /** hand the message to every local shard */
  toAllLocal(json: string): void;
  /** send it to node `owner` for p over the link (`hops` so far); false when that link is not up */
  toPeer(owner: string, partition: number, json: string, hops: number): boolean;
  /** send it to every other node, for all their shards */
  toAllPeers(json: string): void;
}

/** Forwards a message at most this many times between nodes whose maps disagree; then it is held. */
const MAX_HOPS = 2;
/** Held messages per partition; past it the oldest go (the shards' periodic re-watch repairs that). */
const MAX_HELD = 10_000;

/**
 * Cluster mode's delivery of SHARD_MSG records (shards asking about parents that live in other
 * partitions, see shard/messages.ts). They are addressed by partition and go where requests for
 * that partition go: the local shard when this node serves it, the owner's link otherwise. A
 * message for a partition that is moving (no owner routed, or its owner's link down) is held and
 * sent again when the partition's route changes or the owner's link comes up, so a child does not
 * miss its parent's outcome because the parent's node failed over.
 *
 * What this cannot see (a message in flight on a link that drops) the shards repair themselves:
 * a cluster shard watches its remote parents again every LEASE_TTL_MS / 2, and after every gain.
 */
export class ShardMail {
  private readonly held = new Map<number, string[]>();
  readonly stats = { local: 0, forwarded: 0, held: 0, dropped: 0 };

  constructor(private readonly routes: MailRoutes) {}

  /** A message a shard of this node sent (`hops` 0), or one that came over a link. */
  route(target: number, json: string, hops = 0): void {
    const r = this.routes;
    if (target === NODE_WIDE) {
      // a broadcast reaches every node's shards once: only the node it started on passes it on
      r.toAllLocal(json);
      if (hops === 0) r.toAllPeers(json);
      return;
    }
    if (!(Number.isInteger(target) && target >= 0 && target < PARTITIONS)) {
      log.warn('shard message for no partition dropped', { node: r.nodeId, target });
      return;
    }
    const owner = r.ownerOf(target);
    if (owner === r.nodeId) {
      this.stats.local++;
      r.toLocal(target, json);
      return;
    }
    if (owner !== null && hops < MAX_HOPS && r.toPeer(owner, target, json, hops + 1)) {
      this.stats.forwarded++;
      return;
    }
    this.hold(target, json);
  }

  private hold(p: number, json: string): void {
    let list = this.held.get(p);
    if (list === undefined) this.held.set(p, (list = []));
    if (list.length >= MAX_HELD) {
      list.shift();
      this.stats.dropped++;
    }
    list.push(json);
    this.stats.held++;
  }

  /** Partition p is routed somewhere new: what was held for it goes there now. */
  routeChanged(p: number): void {
    const list = this.held.get(p);
    if (list === undefined) return;
    this.held.delete(p);
    this.stats.held -= list.length;
    for (const json of list) this.route(p, json);
  }

  /** The link to `owner` came up: what was held for its partitions goes now. */
  peerUp(owner: string): void {
    for (const p of [...this.held.keys()]) if (this.routes.ownerOf(p) === owner) this.routeChanged(p);
  }

  /** messages waiting for a route */
  get holding(): number {
    return this.stats.held;
  }
}
