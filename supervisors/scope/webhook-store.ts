/**
 * The store a syncing scope keeps its webhook subscriptions in
 * (persistence/webhooks/open-webhooks.ts), so every instance of the app
 * delivers its own changes to the same receivers. A PostgreSQL store given
 * by URL is the process's shared one (shared-stores.ts); a store object is
 * the caller's. A store without a webhook table (Supabase, an app's own)
 * or one unreachable now leaves the subscriptions local to the root.
 */
import { openStoreWebhooks } from '../../persistence/webhooks/open-webhooks.js';
import type { WebhookTable } from '../../persistence/webhooks/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { acquireSharedStore, type SharedStore } from '../../persistence/stores/shared-stores.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export async function openWebhookStore(sync: SyncOptions | undefined): Promise<{ table: WebhookTable; close(): Promise<void> } | undefined> {
  if (!sync) return undefined;
  const given = sync.store;
  const app = sync.app ?? 'default';
  const store = typeof given === 'string' ? await storeFromUrl(given) : given;
  const byUrl = typeof given === 'string' && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  if (!byUrl) {
    const table = openStoreWebhooks(store, app);
    return table && { table, close: async () => table.close() };
  }
  let shared: SharedStore;
  try {
    shared = await acquireSharedStore(given);
  } catch {
    return undefined;
  }
  const table = openStoreWebhooks(shared.store, app);
  if (!table) {
    await shared.release();
    return undefined;
  }
  return { table, close: () => shared.release() };
}
