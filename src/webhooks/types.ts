import type { EventType } from '../engine/types.js';

/** `*` subscribes a webhook to every event type. */
export type WebhookEvent = EventType | '*';

/** An outgoing webhook as stored. The secret is only ever shown masked. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  /** only events of this queue; null = every queue */
  queue: string | null;
  /** HMAC-SHA256 key of the X-FlashQ-Signature header; null = unsigned */
  secret: string | null;
  created_at: number;
}

/** How GET /webhooks and POST /webhooks show a webhook. */
export interface WebhookView extends Omit<Webhook, 'secret'> {
  secret: '****' | null;
}

export function viewOf(w: Webhook): WebhookView {
  return { id: w.id, url: w.url, events: w.events, queue: w.queue, secret: w.secret === null ? null : '****', created_at: w.created_at };
}
