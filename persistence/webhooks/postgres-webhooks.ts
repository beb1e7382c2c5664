/** Webhook subscriptions in PostgreSQL (migration 009_webhooks.sql), through the store's pool (PostgresStore.queryRows). */
import type { QueryRows } from '../audit/postgres-audit.js';
import { byApp, type SweepSource } from '../../src/webhooks/subscription-sweep.js';
import type { Webhook } from '../../src/webhooks/types.js';
import { webhookOfRow, type WebhookRow, type WebhookTable } from './types.js';

export class PostgresWebhookTable implements WebhookTable {
  readonly sweep: SweepSource;

  constructor(
    private readonly queryRows: QueryRows,
    private readonly app: string,
    /** The store whose pool answers (one sweep per store). */
    store: object,
  ) {
    this.sweep = {
      key: store,
      app,
      listApps: async (apps) => {
        const rows = await this.queryRows('SELECT * FROM scopefs.webhooks WHERE app = ANY($1::text[]) ORDER BY created_at, id', [apps]);
        return byApp((rows as unknown as WebhookRow[]).map((row) => ({ app: row.app!, value: webhookOfRow(row) })));
      },
    };
  }

  async list(): Promise<Webhook[]> {
    const rows = await this.queryRows('SELECT * FROM scopefs.webhooks WHERE app = $1 ORDER BY created_at, id', [this.app]);
    return (rows as unknown as WebhookRow[]).map(webhookOfRow);
  }

  async add(w: Webhook): Promise<void> {
    await this.queryRows(
      `INSERT INTO scopefs.webhooks (app, id, url, events, path_glob, secret, created_at) VALUES ($1, $2, $3, $4::text[], $5, $6, $7)
       ON CONFLICT (app, id) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events, path_glob = EXCLUDED.path_glob, secret = EXCLUDED.secret`,
      [this.app, w.id, w.url, w.events, w.pathGlob ?? null, w.secret, w.createdAt],
    );
  }

  async remove(id: string): Promise<boolean> {
    const rows = await this.queryRows('WITH gone AS (DELETE FROM scopefs.webhooks WHERE app = $1 AND id = $2 RETURNING 1) SELECT count(*)::int AS n FROM gone', [this.app, id]);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  close(): void {}
}
