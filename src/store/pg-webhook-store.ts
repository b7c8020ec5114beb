import { connect, errorText, type Sql } from './connection.js';

/**
 * Webhooks persisted in flashq_webhooks, one JSON document per webhook keyed by its id. The
 * document is whatever the webhooks module stores (url, events, queue, secret, …): the store
 * does not interpret it, so the two can evolve independently.
 *
 * It satisfies src/webhooks/webhook-persistence.ts `WebhookStore` structurally (server.ts installs it with
 * useWebhookStore when DATABASE_URL is set).
 */
export interface StoredWebhook {
  id: string;
}

export class PgWebhookStore<W extends StoredWebhook = StoredWebhook> {
  private readonly sql: Sql;

  constructor(url: string) {
    this.sql = connect(url, { max: 1, name: 'flashq-ts webhooks' });
  }

  /** Every webhook, oldest first. */
  async load(): Promise<W[]> {
    const rows = await this.sql.unsafe<Array<{ spec: string }>>('select spec::text as spec from flashq_webhooks order by created_at, id');
    return rows.map((r) => JSON.parse(r.spec) as W);
  }

  /** Create or replace. */
  async save(w: W): Promise<void> {
    await this.sql.unsafe(
      'insert into flashq_webhooks (id, spec) values ($1, $2::text::jsonb) on conflict (id) do update set spec = excluded.spec',
      [w.id, JSON.stringify(w)],
    );
  }

  async remove(id: string): Promise<void> {
    await this.sql.unsafe('delete from flashq_webhooks where id = $1', [id]);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 }).catch(() => {});
  }
}

/** Open and check the connection (a server with DATABASE_URL must not run with webhooks in memory). */
export async function openPgWebhookStore<W extends StoredWebhook>(url: string): Promise<PgWebhookStore<W>> {
  const store = new PgWebhookStore<W>(url);
  try {
    await store.load();
  } catch (e) {
    await store.close();
    throw new Error(`webhooks: PostgreSQL unreachable: ${errorText(e)}`);
  }
  return store;
}
