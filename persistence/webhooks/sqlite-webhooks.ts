/**
 * Webhook subscriptions in a SQLite database (schema 7, persistence/sql/sqlite-schema.ts):
 * the SQLite store's file (per app), or a root's private `.scopefs/webhooks.db` (app `local`).
 */
import Database from 'better-sqlite3';
import { byApp, type SweepSource } from '../../src/webhooks/subscription-sweep.js';
import type { Webhook } from '../../src/webhooks/types.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { webhookOfRow, type WebhookRow, type WebhookTable } from './types.js';

export class SqliteWebhookTable implements WebhookTable {
  private readonly db: Database.Database;
  readonly sweep: SweepSource;

  constructor(
    file: string,
    private readonly app: string,
    /** NORMAL for a root's own file, so it shares the outbox's connection (outbox.ts). */
    synchronous?: 'NORMAL',
  ) {
    this.db = openPrivateSqlite(file, { label: 'webhooks', ...(synchronous ? { synchronous } : {}) }, (path, timeout) => new Database(path, { timeout }));
    this.sweep = {
      key: `sqlite:${file}`,
      app,
      listApps: async (apps) => {
        const wanted = JSON.stringify(apps);
        const rows = this.db
          .prepare('SELECT * FROM scopefs_webhooks WHERE app IN (SELECT value FROM json_each(?)) ORDER BY created_at, id')
          .all(wanted) as WebhookRow[];
        return byApp(rows.map((row) => ({ app: row.app!, value: webhookOfRow(row) })));
      },
    };
  }

  async list(): Promise<Webhook[]> {
    const rows = this.db.prepare('SELECT * FROM scopefs_webhooks WHERE app = ? ORDER BY created_at, id').all(this.app) as WebhookRow[];
    return rows.map(webhookOfRow);
  }

  async add(w: Webhook): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO scopefs_webhooks (app, id, url, events, path_glob, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(this.app, w.id, w.url, JSON.stringify(w.events), w.pathGlob ?? null, w.secret, w.createdAt);
  }

  async remove(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM scopefs_webhooks WHERE app = ? AND id = ?').run(this.app, id).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
