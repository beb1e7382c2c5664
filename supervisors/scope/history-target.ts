/**
 * Where a scope's history lives (docs/history.md): in its sync store's
 * database when it syncs (one history for every instance of the app), else
 * in the root's `.scopefs/history.db`, else (no root, no store) in memory.
 * A store without history support falls back to the local choice.
 */
import { LOCAL_HISTORY_SCOPE, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import type { HistoryStore, Retention } from '../../persistence/history/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import { isScopeFsError } from '../../src/errors.js';
import type { HistoryTarget } from '../../src/fs/history-recorder.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export interface ScopeHistory {
  target: HistoryTarget;
  /** Where it lives, for status and logs: `store`, `local` or `memory`. */
  kind: 'store' | 'local' | 'memory';
  close(): Promise<void>;
}

const DEFAULT_APP = 'default';

export async function openScopeHistory(root: string | undefined, sync: SyncOptions | undefined, retention?: Retention): Promise<ScopeHistory> {
  const opened = sync ? await storeHistory(sync) : undefined;
  const history =
    sync && opened
      ? scopeHistory(opened.history, sync.app ?? DEFAULT_APP, 'store', sync.instanceId, opened.close)
      : root
        ? scopeHistory(openLocalHistory(root), LOCAL_HISTORY_SCOPE, 'local', undefined)
        : scopeHistory(openMemoryHistory(), LOCAL_HISTORY_SCOPE, 'memory', undefined);
  if (retention) history.target.retention = retention;
  return history;
}

/**
 * The store's own history, or undefined when this store has none (EINVAL
 * from openStoreHistory). A PostgreSQL or Supabase store given by URL gets a
 * connection of its own (the sync actor opens and closes its own), closed
 * with the history; a store object is the caller's, used as it is.
 */
async function storeHistory(sync: SyncOptions): Promise<{ history: HistoryStore; close: () => Promise<void> } | undefined> {
  const byUrl = typeof sync.store === 'string';
  const store = typeof sync.store === 'string' ? await storeFromUrl(sync.store) : sync.store;
  const needsConnection = byUrl && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  try {
    if (needsConnection) await store.open();
    const history = await openStoreHistory(store);
    return { history, close: async () => {
      await history.close();
      if (needsConnection) await store.close();
    } };
  } catch (err) {
    if (needsConnection) await store.close().catch(() => undefined);
    if (isScopeFsError(err, 'EINVAL')) return undefined;
    throw err;
  }
}

function scopeHistory(
  store: HistoryStore,
  scope: string,
  kind: ScopeHistory['kind'],
  instance: string | undefined,
  close: () => Promise<void> = () => store.close(),
): ScopeHistory {
  const target: HistoryTarget = { store, scope, ...(instance === undefined ? {} : { instance }) };
  return { target, kind, close };
}
