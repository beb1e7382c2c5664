/**
 * The store a syncing scope ships its audit log to (persistence/audit/open-audit.ts),
 * so an operator sees every instance in one log. A PostgreSQL store given by
 * URL gets a connection of its own (the sync actor opens and closes its own);
 * a store object is the caller's, used as it is. A store without an audit
 * table (Supabase, for now) leaves the log local.
 */
import { openStoreAudit, type StoreAudit } from '../../persistence/audit/open-audit.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export interface AuditStoreTarget {
  log: StoreAudit['log'];
  instance?: string;
  close(): Promise<void>;
}

export async function openAuditStore(sync: SyncOptions | undefined): Promise<AuditStoreTarget | undefined> {
  if (!sync) return undefined;
  const byUrl = typeof sync.store === 'string';
  const store = typeof sync.store === 'string' ? await storeFromUrl(sync.store) : sync.store;
  const needsConnection = byUrl && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  const opened = openStoreAudit(store, sync.app ?? 'default');
  if (!opened) return undefined;
  if (needsConnection) {
    try {
      await store.open();
    } catch {
      // The store is unreachable now: the scope starts anyway (sync works offline) and keeps its log
      // local; the spool's shipped position persists, so the next start ships what this one recorded.
      opened.close();
      return undefined;
    }
  }
  return {
    log: opened.log,
    ...(sync.instanceId === undefined ? {} : { instance: sync.instanceId }),
    close: async () => {
      opened.close();
      if (needsConnection) await store.close();
    },
  };
}
