/**
 * Where a scope's history lives (docs/history.md): in its sync store's
 * database when it syncs (one history for every instance of the app), else
 * in the root's `.scopefs/history.db`, else (no root, no store) in memory.
 * A store without history support yet falls back to the local choice.
 */
import { LOCAL_HISTORY_SCOPE, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import type { HistoryStore } from '../../persistence/history/types.js';
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

export async function openScopeHistory(root: string | undefined, sync: SyncOptions | undefined): Promise<ScopeHistory> {
  if (sync) {
    const store = await storeHistory(sync);
    if (store) return scopeHistory(store, sync.app ?? DEFAULT_APP, 'store', sync.instanceId);
  }
  if (root) return scopeHistory(openLocalHistory(root), LOCAL_HISTORY_SCOPE, 'local', undefined);
  return scopeHistory(openMemoryHistory(), LOCAL_HISTORY_SCOPE, 'memory', undefined);
}

/** The store's own history, or undefined when this store has none yet (EINVAL from openStoreHistory). */
async function storeHistory(sync: SyncOptions): Promise<HistoryStore | undefined> {
  try {
    const store = typeof sync.store === 'string' ? await storeFromUrl(sync.store) : sync.store;
    return await openStoreHistory(store);
  } catch (err) {
    if (isScopeFsError(err, 'EINVAL')) return undefined;
    throw err;
  }
}

function scopeHistory(store: HistoryStore, scope: string, kind: ScopeHistory['kind'], instance: string | undefined): ScopeHistory {
  const target: HistoryTarget = { store, scope, ...(instance === undefined ? {} : { instance }) };
  return { target, kind, close: () => store.close() };
}
