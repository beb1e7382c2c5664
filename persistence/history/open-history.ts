/**
 * Where a scope's history lives: in its store's database (every instance
 * sees one history), or, for a scope without a store, in the root's
 * `.scopefs/history.db`. The memory store's history is an in-memory SQLite
 * database kept per store object, so scopes sharing `memory:NAME` share it.
 */
import { join } from 'node:path';
import { ScopeFsError } from '../../src/errors.js';
import { RESERVED_SEGMENT } from '../../src/paths.js';
import { MemoryStore } from '../stores/memory-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import type { SyncStore } from '../stores/types.js';
import { MemoryTombstones } from './memory-tombstones.js';
import { SqliteHistory } from './sqlite-history.js';
import { SqliteTombstones } from './sqlite-tombstones.js';
import { SqlHistory, type HistoryCall } from './sql-history.js';
import { historyCallSql, historyCallValues } from './sql-history-functions.js';
import { SqlTombstones } from './sql-tombstones.js';
import type { TombstonePurger } from './tombstones.js';
import type { HistoryStore } from './types.js';

/** The scope name of a local (store-less) history. */
export const LOCAL_HISTORY_SCOPE = 'local';

/** The history file of a store-less scope rooted at `root`. */
export function localHistoryFile(root: string): string {
  return join(root, RESERVED_SEGMENT, 'history.db');
}

/**
 * A store-less scope's history, under `<root>/.scopefs/history.db`; use scope
 * LOCAL_HISTORY_SCOPE. One process writes it, and recording is asynchronous
 * (a killed process may lose the versions still queued), so its commits are
 * not fsynced one by one: they survive a killed process, and a power cut may
 * take the last few back, as it may the journal's unsynced records.
 */
export function openLocalHistory(root: string): HistoryStore {
  return new SqliteHistory({ file: localHistoryFile(root), synchronous: 'NORMAL' });
}

/** A fresh in-memory history (tests, memory-only scopes). */
export function openMemoryHistory(): HistoryStore {
  return new SqliteHistory({ file: ':memory:' });
}

const memoryStoreHistories = new WeakMap<MemoryStore, SqliteHistory>();

/** The shared, never-closed history of a memory store: close() on it is a no-op, like the store's own. */
class SharedMemoryHistory extends SqliteHistory {
  override async close(): Promise<void> {}
}

/**
 * The history inside a store's database, with the store's app as scope.
 * Each call opens a new connection (close it when done), except for the
 * memory store, whose one history lives as long as the store object.
 * PostgreSQL and Supabase: through the store's pool or RPC and migration 5's
 * SQL functions (the store must be open; closing the history leaves it open).
 */
/** Whether openStoreHistory supports this store (decided from its kind; no I/O). */
export function hasStoreHistory(store: SyncStore): boolean {
  return store instanceof MemoryStore || store instanceof SqliteStore || sqlCall(store) !== null;
}

export async function openStoreHistory(store: SyncStore): Promise<HistoryStore> {
  if (store instanceof MemoryStore) {
    let history = memoryStoreHistories.get(store);
    if (!history) memoryStoreHistories.set(store, (history = new SharedMemoryHistory({ file: ':memory:' })));
    return history;
  }
  if (store instanceof SqliteStore) return new SqliteHistory({ file: store.url.slice('sqlite:'.length) });
  const call = sqlCall(store);
  if (call) return new SqlHistory(call);
  throw new ScopeFsError('EINVAL', `store ${store.url} has no history support: use a memory, sqlite, postgres or supabase store`);
}

const memoryStoreTombstones = new WeakMap<MemoryStore, MemoryTombstones>();

/** Tombstone purging for a store's files table (see tombstones.ts); close it when done. */
export function openStoreTombstones(store: SyncStore): TombstonePurger {
  if (store instanceof MemoryStore) {
    let purger = memoryStoreTombstones.get(store);
    if (!purger) memoryStoreTombstones.set(store, (purger = new MemoryTombstones(store)));
    return purger;
  }
  if (store instanceof SqliteStore) return new SqliteTombstones(store.url.slice('sqlite:'.length));
  const call = sqlCall(store);
  if (call) return new SqlTombstones(call);
  throw new ScopeFsError('EINVAL', `store ${store.url} has no tombstone purging: use a memory, sqlite, postgres or supabase store`);
}

/** PostgresStore (queryRows) and SupabaseStore (callRpc), told apart by shape so neither driver is imported here. */
interface PostgresLike { queryRows(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> }
interface SupabaseLike { callRpc(fn: string, args: Record<string, unknown>): Promise<unknown> }

function sqlCall(store: SyncStore): HistoryCall | null {
  const candidate = store as Partial<PostgresLike & SupabaseLike>;
  if (typeof candidate.queryRows === 'function') {
    const postgres = store as unknown as PostgresLike;
    return async (fn, args) => (await postgres.queryRows(historyCallSql(fn), historyCallValues(fn, args)))[0]?.result ?? null;
  }
  if (typeof candidate.callRpc === 'function') {
    const supabase = store as unknown as SupabaseLike;
    return (fn, args) => supabase.callRpc(fn, args);
  }
  return null;
}
