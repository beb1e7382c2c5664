/**
 * The store a syncing scope ships its audit log to (persistence/audit/open-audit.ts),
 * so an operator sees every instance in one log. A PostgreSQL
 * or Supabase store given by URL is the process's shared one (shared-stores.ts);
 * a store object is the caller's, used as it is. A store without an audit
 * table (an app's own) leaves the log local.
 */
import { openStoreAudit, type StoreAudit } from '../../persistence/audit/open-audit.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { acquireSharedStore, type SharedStore } from '../../persistence/stores/shared-stores.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export interface AuditStoreTarget {
  log: StoreAudit['log'];
  instance?: string;
  close(): Promise<void>;
}

export async function openAuditStore(sync: SyncOptions | undefined): Promise<AuditStoreTarget | undefined> {
  if (!sync) return undefined;
  const given = sync.store;
  const store = typeof given === 'string' ? await storeFromUrl(given) : given;
  const byUrl = typeof given === 'string' && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  if (!byUrl) return target(openStoreAudit(store, sync.app ?? 'default'), sync, async () => undefined);
  let shared: SharedStore;
  try {
    shared = await acquireSharedStore(given);
  } catch {
    // The store is unreachable now: the scope starts anyway (sync works offline) and keeps its log
    // local; the spool's shipped position persists, so the next start ships what this one recorded.
    return undefined;
  }
  const opened = openStoreAudit(shared.store, sync.app ?? 'default');
  if (!opened) await shared.release();
  return target(opened, sync, () => shared.release());
}

function target(opened: StoreAudit | undefined, sync: SyncOptions, release: () => Promise<void>): AuditStoreTarget | undefined {
  if (!opened) return undefined;
  return {
    log: opened.log,
    ...(sync.instanceId === undefined ? {} : { instance: sync.instanceId }),
    close: async () => {
      opened.close();
      await release();
    },
  };
}
