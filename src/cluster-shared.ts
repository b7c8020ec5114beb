import { log } from './log.js';
import type { ClusterBridge } from './cluster-bridge.js';
import type { WorkerInfo, WorkerRegistry } from './front/workers.js';
import type { WebhookRegistry } from './webhooks/registry.js';

/** Node-wide questions (ClusterBridge.handleOp) for what the front keeps outside the shards. */
const WORKERS_OP = 'workers';
const WEBHOOKS_CHANGED_OP = 'webhooks-changed';
/**
 * Every node rereads the webhooks this often, in case it missed a change notice (its link to the
 * node that made the change was down at that moment).
 */
export const WEBHOOK_RESYNC_MS = 15_000;
/** GET /workers waits this long for each other node's list, then answers without it. */
export const PEER_ANSWER_MS = 5_000;

/**
 * Cluster mode: what the front keeps outside the shards, seen alike on every node. GET /workers
 * merges the heartbeats of every node that answers (the others are named in the answer's
 * X-FlashQ-Missing-Nodes header); a webhook created or deleted on one node is reloaded by the
 * others at once (the node owning an event's partition delivers it, so each node needs them all).
 * Returns the undo, for the server's stop.
 */
export function shareAcrossNodes(bridge: ClusterBridge, workers: WorkerRegistry, webhooks: WebhookRegistry): () => void {
  bridge.handleOp(WORKERS_OP, () => workers.list(Date.now()));
  bridge.handleOp(WEBHOOKS_CHANGED_OP, () => webhooks.reload());
  // a node that does not answer (dead but still within its lease, unreachable, stopped) costs
  // the list its workers, not the whole answer
  workers.peers = async () => {
    const lists: WorkerInfo[][] = [];
    const missing: string[] = [];
    for (const a of await bridge.askEachPeer(WORKERS_OP, PEER_ANSWER_MS)) {
      if (a.error === undefined) lists.push(a.data as WorkerInfo[]);
      else {
        missing.push(a.node);
        log.debug('workers of a node left out of GET /workers', { node: a.node, error: a.error });
      }
    }
    return { lists, missing };
  };
  webhooks.onChange = () => {
    bridge.askPeers(WEBHOOKS_CHANGED_OP).catch((e: unknown) => {
      log.warn('webhook change not confirmed by every node (each rereads within the resync interval)', { error: String(e), resyncMs: WEBHOOK_RESYNC_MS });
    });
  };
  const resync = setInterval(() => {
    webhooks.reload().catch((e: unknown) => log.warn('webhook resync failed', { error: String(e) }));
  }, WEBHOOK_RESYNC_MS);
  resync.unref();
  return () => {
    clearInterval(resync);
    workers.peers = null;
    webhooks.onChange = null;
  };
}
