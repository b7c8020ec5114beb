import type { Webhook } from './types.js';

/**
 * Where webhooks persist (compat.md: "webhooks are persisted"). The memory store serves servers
 * without DATABASE_URL; the PostgreSQL store implements the same interface.
 */
export interface WebhookStore {
  load(): Promise<Webhook[]>;
  /** insert or replace by id */
  save(w: Webhook): Promise<void>;
  remove(id: string): Promise<void>;
}

export class MemoryWebhookStore implements WebhookStore {
  private readonly hooks = new Map<string, Webhook>();

  async load(): Promise<Webhook[]> {
    return [...this.hooks.values()].map((w) => ({ ...w, events: [...w.events] }));
  }

  async save(w: Webhook): Promise<void> {
    this.hooks.set(w.id, { ...w, events: [...w.events] });
  }

  async remove(id: string): Promise<void> {
    this.hooks.delete(id);
  }
}
