export { WebhookRegistry, parseWebhook, MAX_WEBHOOKS } from './registry.js';
export { MemoryWebhookStore, type WebhookStore } from './webhook-persistence.js';
export { WebhookDelivery, sign, DEFAULT_DELIVERY, type DeliveryOptions } from './delivery.js';
export { checkTargetUrl, isLinkLocal } from './target.js';
export type { Webhook, WebhookView, WebhookEvent } from './types.js';
