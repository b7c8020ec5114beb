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

/**
 * Cluster mode: what the front keeps outside the shards, seen alike on every node. GET /workers
 * merges every node's heartbeats; a webhook created or deleted on one node is reloaded by the
 * others at once (the node owning an event's partition delivers it, so each node needs them all).
 * Returns the undo, for the server's stop.
 */
export function shareAcrossNodes(bridge: ClusterBridge, workers: WorkerRegistry, webhooks: WebhookRegistry): () => void {
  bridge.handleOp(WORKERS_OP, () => workers.list(Date.now()));
  bridge.handleOp(WEBHOOKS_CHANGED_OP, () => webhooks.reload());
  workers.peers = async () => (await bridge.askPeers(WORKERS_OP)) as WorkerInfo[][];
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
