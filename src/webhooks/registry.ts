import { randomUUID } from 'node:crypto';
import { ErrorCode, errors, FlashqError } from '../base/errors.js';
import { validateQueueName } from '../engine/names.js';
import type { EventType } from '../engine/types.js';
import { EVENT_TYPES, isEventType, type BusEvent, type EventSink, type EventSource } from '../events/catalogue.js';
import { WebhookDelivery, type DeliveryOptions } from './delivery.js';
import { webhookBody } from './payload.js';
import { JsonWalk } from '../protocol/json-walk.js';
import type { WebhookStore } from './webhook-persistence.js';
import { checkTargetUrl } from './target.js';
import { viewOf, type Webhook, type WebhookEvent, type WebhookView } from './types.js';

export const MAX_WEBHOOKS = 1000;
const MAX_SECRET = 1024;

/**
 * The webhooks of this server: created, listed and deleted over HTTP, persisted through a
 * WebhookStore, and fed every event from the bus while at least one exists. Matching is by event
 * type (`*` = all) and, when set, queue; deliveries go to a bounded WebhookDelivery.
 */
export class WebhookRegistry implements EventSink {
  private readonly hooks = new Map<string, Webhook>();
  /** hooks per event type, rebuilt on change: the per-event work is one lookup */
  private byType = new Map<EventType, Webhook[]>();
  private bus: EventSource | null = null;
  private holding = false;
  /** in cluster mode the node owning an event's partition delivers it: once */
  readonly localOnly = true;
  private loaded: Promise<void> | null = null;
  /** local creates and deletes so far: a reload whose read raced one reads again */
  private changes = 0;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  /** cluster mode: this node created or deleted a webhook (the other nodes reload theirs) */
  onChange: (() => void) | null = null;
  /** walks event bytes to build delivery bodies */
  private readonly walk = new JsonWalk();
  readonly delivery: WebhookDelivery;

  constructor(
    private readonly store: WebhookStore,
    delivery: Partial<DeliveryOptions> = {},
  ) {
    this.delivery = new WebhookDelivery(delivery);
  }

  /** Load the stored webhooks once (later calls wait for the same load). */
  load(): Promise<void> {
    return (this.loaded ??= this.store.load().then((list) => {
      for (const w of list) this.hooks.set(w.id, w);
      this.reindex();
    }));
  }

  /**
   * Replace the webhooks by what the store holds now (cluster mode: another node created or
   * deleted one). Calls during a reload coalesce into one more read after it.
   */
  reload(): Promise<void> {
    if (this.reloading !== null) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<void> => {
      await this.load();
      do {
        this.reloadAgain = false;
        const seen = this.changes;
        const list = await this.store.load();
        // a local create or delete finished while the store was read: the list may predate it
        if (seen !== this.changes) {
          this.reloadAgain = true;
          continue;
        }
        this.hooks.clear();
        for (const w of list) this.hooks.set(w.id, w);
        this.reindex();
      } while (this.reloadAgain);
    };
    this.reloading = run().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** Start feeding on a bus (one per listener start); events are switched on while webhooks exist. */
  attach(bus: EventSource): void {
    this.detach();
    this.bus = bus;
    bus.addSink(this);
    this.hold();
  }

  detach(): void {
    if (!this.bus) return;
    this.bus.removeSink(this);
    if (this.holding) this.bus.release();
    this.holding = false;
    this.bus = null;
  }

  private hold(): void {
    const want = this.hooks.size > 0;
    if (!this.bus || want === this.holding) return;
    this.holding = want;
    if (want) this.bus.retain();
    else this.bus.release();
  }

  list(): WebhookView[] {
    return [...this.hooks.values()].map(viewOf);
  }

  async create(body: Record<string, unknown>, now: number): Promise<WebhookView> {
    if (this.hooks.size >= MAX_WEBHOOKS) throw errors.badRequest(`Too many webhooks (max ${MAX_WEBHOOKS})`);
    const w: Webhook = { id: randomUUID(), ...parseWebhook(body), created_at: now };
    await this.persist(() => this.store.save(w));
    this.changes++;
    this.hooks.set(w.id, w);
    this.reindex();
    this.onChange?.();
    return viewOf(w);
  }

  async remove(id: string): Promise<void> {
    if (!this.hooks.has(id)) throw new FlashqError(ErrorCode.NotFound, `Webhook ${id} not found`);
    await this.persist(() => this.store.remove(id));
    this.changes++;
    this.hooks.delete(id);
    this.reindex();
    this.onChange?.();
  }

  private async persist(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (e) {
      throw errors.storageUnavailable(e instanceof Error ? e.message : String(e));
    }
  }

  private reindex(): void {
    const byType = new Map<EventType, Webhook[]>();
    for (const t of EVENT_TYPES) byType.set(t, []);
    for (const w of this.hooks.values()) {
      const all = w.events.includes('*');
      for (const t of EVENT_TYPES) if (all || w.events.includes(t)) byType.get(t)!.push(w);
    }
    this.byType = byType;
    this.bus?.interestChanged();
    this.hold();
  }

  interest(): 'all' | ReadonlySet<string> {
    const queues = new Set<string>();
    for (const w of this.hooks.values()) {
      if (w.queue === null) return 'all';
      queues.add(w.queue);
    }
    return queues;
  }

  event(ev: BusEvent): number {
    const hooks = this.byType.get(ev.type);
    if (!hooks || hooks.length === 0) return 0;
    let body: Buffer | null = null;
    let n = 0;
    for (const w of hooks) {
      if (w.queue !== null && w.queue !== ev.queue) continue;
      body ??= webhookBody(ev, this.walk);
      this.delivery.enqueue(w.url, w.secret, ev.type, body);
      n++;
    }
    return n;
  }

  close(): void {
    this.detach();
    this.delivery.close();
  }
}

/** The fields of POST /webhooks, validated; 400 naming the field otherwise. */
export function parseWebhook(b: Record<string, unknown>): Omit<Webhook, 'id' | 'created_at'> {
  if (typeof b.url !== 'string') throw errors.badRequest(b.url === undefined ? 'Missing field "url"' : 'Invalid field "url": expected a string');
  checkTargetUrl(b.url);
  const url = b.url;
  let events: WebhookEvent[] = ['*'];
  if (b.events !== undefined && b.events !== null) {
    if (!Array.isArray(b.events) || b.events.length === 0) throw errors.badRequest('Invalid field "events": expected a non-empty array of event names');
    events = [];
    for (const e of b.events as unknown[]) {
      if (typeof e !== 'string' || (e !== '*' && !isEventType(e))) {
        throw errors.badRequest(`Invalid field "events": ${JSON.stringify(e)} is not one of ${EVENT_TYPES.join(', ')}, *`);
      }
      if (!events.includes(e)) events.push(e);
    }
  }
  let queue: string | null = null;
  if (b.queue !== undefined && b.queue !== null) {
    if (typeof b.queue !== 'string') throw errors.badRequest('Invalid field "queue": expected a string');
    validateQueueName(b.queue);
    queue = b.queue;
  }
  let secret: string | null = null;
  if (b.secret !== undefined && b.secret !== null) {
    if (typeof b.secret !== 'string' || b.secret.length === 0 || b.secret.length > MAX_SECRET) {
      throw errors.badRequest(`Invalid field "secret": expected a string of 1..${MAX_SECRET} characters`);
    }
    secret = b.secret;
  }
  return { url, events, queue, secret };
}
