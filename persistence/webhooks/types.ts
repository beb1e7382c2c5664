/** Where a scope's webhook subscriptions are kept: the store (per app) when syncing, else its root (or memory). */
import type { SweepSource } from '../../src/webhooks/subscription-sweep.js';
import type { Webhook } from '../../src/webhooks/types.js';

export interface WebhookTable {
  list(): Promise<Webhook[]>;
  /** Stores it; an existing id is replaced. */
  add(webhook: Webhook): Promise<void>;
  /** True when it was there. */
  remove(id: string): Promise<boolean>;
  close(): void;
  /** For a table in a shared store: how the process's one sweep reads it (subscription-sweep.ts). */
  readonly sweep?: SweepSource;
}

/** A subscription as a row (events as a JSON array in SQLite, text[] in PostgreSQL). */
export interface WebhookRow {
  app?: string;
  id: string;
  url: string;
  events: string | string[];
  path_glob: string | null;
  secret: string;
  created_at: number | string;
}

export function webhookOfRow(row: WebhookRow): Webhook {
  const webhook: Webhook = {
    id: row.id,
    url: row.url,
    events: typeof row.events === 'string' ? (JSON.parse(row.events) as string[]) : row.events,
    secret: row.secret,
    createdAt: Number(row.created_at),
  };
  if (row.path_glob !== null) webhook.pathGlob = row.path_glob;
  return webhook;
}
