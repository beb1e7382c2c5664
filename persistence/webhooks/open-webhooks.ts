/**
 * The subscription table inside a sync store's database, with the store's
 * app as scope, so every instance of the app delivers to the same
 * receivers. Memory: per store object; SQLite: its file; PostgreSQL: the
 * store's pool. Supabase has none (its table is the owner's only, as the
 * audit log's): undefined, and the scope keeps its subscriptions local.
 */
import { MemoryStore } from '../stores/memory-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import type { SyncStore } from '../stores/types.js';
import type { QueryRows } from '../audit/postgres-audit.js';
import { MemoryWebhookTable } from './memory-webhooks.js';
import { PostgresWebhookTable } from './postgres-webhooks.js';
import { SqliteWebhookTable } from './sqlite-webhooks.js';
import type { WebhookTable } from './types.js';

const memoryTables = new WeakMap<MemoryStore, Map<string, MemoryWebhookTable>>();

export function openStoreWebhooks(store: SyncStore, app: string): WebhookTable | undefined {
  if (store instanceof MemoryStore) {
    let tables = memoryTables.get(store);
    if (!tables) memoryTables.set(store, (tables = new Map()));
    let table = tables.get(app);
    if (!table) tables.set(app, (table = new MemoryWebhookTable()));
    return table;
  }
  if (store instanceof SqliteStore) return new SqliteWebhookTable(store.url.slice('sqlite:'.length), app);
  const candidate = store as unknown as { queryRows?: QueryRows };
  if (typeof candidate.queryRows === 'function') return new PostgresWebhookTable(candidate.queryRows.bind(store), app, store);
  return undefined;
}
