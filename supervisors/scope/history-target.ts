/**
 * Where a scope's history lives (docs/history.md): in its sync store's
 * database when it syncs (one history for every instance of the app), else
 * in the root's `.scopefs/history.db`, else (no root, no store) in memory.
 * A store without history support falls back to the local choice.
 */
import { join } from 'node:path';
import { lazyHistory, type OpenedHistory } from '../../persistence/history/lazy-history.js';
import { LOCAL_HISTORY_SCOPE, hasStoreHistory, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import { checkRetention } from '../../persistence/history/history-input.js';
import type { HistoryStore, Retention } from '../../persistence/history/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { acquireSharedStore } from '../../persistence/stores/shared-stores.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import { PRUNE_ROWS_PER_BATCH, type HistoryTarget } from '../../src/fs/history-recorder.js';
import { RESERVED_SEGMENT } from '../../src/paths.js';
import { SyncStateDb } from '../../src/sync/state-db.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export interface ScopeHistory {
  target: HistoryTarget;
  /** Where it lives, for status and logs: `store`, `local` or `memory`. */
  kind: 'store' | 'local' | 'memory';
  close(): Promise<void>;
}

const DEFAULT_APP = 'default';

export async function openScopeHistory(
  root: string | undefined,
  sync: SyncOptions | undefined,
  retention?: Retention,
  sharedState?: SyncStateDb,
): Promise<ScopeHistory> {
  // Bad limits fail the start with EINVAL naming them, not every later prune step.
  if (retention) checkRetention(retention, { maxRows: PRUNE_ROWS_PER_BATCH });
  const opened = sync ? await storeHistory(sync) : undefined;
  const history =
    sync && opened
      ? storeScopeHistory(opened, sync, instanceOf(root, sync, sharedState))
      : root
        ? scopeHistory(openLocalHistory(root), LOCAL_HISTORY_SCOPE, 'local', undefined)
        : scopeHistory(openMemoryHistory(), LOCAL_HISTORY_SCOPE, 'memory', undefined);
  if (retention) history.target.retention = retention;
  return history;
}

function storeScopeHistory(opened: OpenedHistory, sync: SyncOptions, instance: Instance): ScopeHistory {
  const close = async () => {
    instance.release();
    await opened.close();
  };
  return scopeHistory(opened.history, sync.app ?? DEFAULT_APP, 'store', instance.id, close);
}

interface Instance {
  id: string | undefined;
  release(): void;
}

/**
 * The instance id sync will use: the configured one, else the one kept in
 * the sync state (generated there once, as the sync actor would). The state
 * stays open until the history closes, so the sync actor's open of the same
 * file gets it without opening the database a second time.
 */
function instanceOf(root: string | undefined, sync: SyncOptions, sharedState: SyncStateDb | undefined): Instance {
  const none = { release: () => undefined };
  if (sync.instanceId !== undefined) return { id: sync.instanceId, ...none };
  if (sharedState) return { id: sharedState.instanceId(), ...none };
  const file = sync.stateFile ?? (root ? join(root, RESERVED_SEGMENT, 'sync-state.db') : undefined);
  if (!file) return { id: undefined, ...none };
  const state = SyncStateDb.open(file);
  try {
    return { id: state.instanceId(), release: () => state.close() };
  } catch (err) {
    state.close();
    throw err;
  }
}

/**
 * The store's own history, or undefined when this store has none. It is
 * connected on first use, not here: a scope starts while its store is
 * unreachable, and the recorder's batches wait until it answers. A
 * PostgreSQL or Supabase store given by URL is the process's shared one
 * (shared-stores.ts), released with the history; a store object is the
 * caller's, used as it is.
 */
async function storeHistory(sync: SyncOptions): Promise<OpenedHistory | undefined> {
  const given = sync.store;
  const store = typeof given === 'string' ? await storeFromUrl(given) : given;
  if (!hasStoreHistory(store)) return undefined;
  const history = lazyHistory(async () => {
    if (typeof given !== 'string' || store instanceof MemoryStore || store instanceof SqliteStore) {
      const opened = await openStoreHistory(store);
      return { history: opened, close: () => opened.close() };
    }
    const shared = await acquireSharedStore(given);
    try {
      const opened = await openStoreHistory(shared.store);
      return { history: opened, close: async () => (await opened.close(), await shared.release()) };
    } catch (err) {
      await shared.release();
      throw err;
    }
  });
  return { history, close: () => history.close() };
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
