import type { Server } from '../../server.js';
import { WorkerRegistry } from '../workers.js';
import { WebhookRegistry } from '../../webhooks/registry.js';
import { MemoryWebhookStore, type WebhookStore } from '../../webhooks/store.js';
import type { DeliveryOptions } from '../../webhooks/delivery.js';

/**
 * What the HTTP front keeps for the life of a Server object, across POST /server/restart (which
 * stops and starts the listeners): the worker registry and the webhooks. Keyed by the Server so
 * server.ts needs no field for them.
 */
export interface FrontState {
  workers: WorkerRegistry;
  webhooks: WebhookRegistry;
}

const states = new WeakMap<Server, FrontState>();
const stores = new WeakMap<Server, { store: WebhookStore; delivery?: Partial<DeliveryOptions> }>();

/**
 * Choose where a server's webhooks persist (the PostgreSQL store when DATABASE_URL is set) and,
 * optionally, delivery settings. Call before the server starts; the default is in memory.
 */
export function useWebhookStore(server: Server, store: WebhookStore, delivery?: Partial<DeliveryOptions>): void {
  stores.set(server, { store, ...(delivery ? { delivery } : {}) });
}

export function frontState(server: Server): FrontState {
  let s = states.get(server);
  if (!s) {
    const chosen = stores.get(server);
    s = {
      workers: new WorkerRegistry(),
      webhooks: new WebhookRegistry(chosen?.store ?? new MemoryWebhookStore(), chosen?.delivery),
    };
    states.set(server, s);
  }
  return s;
}
