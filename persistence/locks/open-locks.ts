/**
 * The locks inside a sync store's database: one set every instance of the
 * app sees. The memory store's are kept per store object (scopes sharing
 * `memory:NAME` share them); SQLite's live in its file (each call opens a
 * connection: close it); PostgreSQL's and Supabase's go through the store's
 * pool or RPC and migration 7's SQL functions (the store must be open).
 */
import { ScopeFsError } from '../../src/errors.js';
import { MemoryStore } from '../stores/memory-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import type { SyncStore } from '../stores/types.js';
import { MemoryLocks } from './memory-locks.js';
import { SqlLocks, lockCallSql, lockCallValues, type LockCall } from './sql-locks.js';
import { SqliteLocks } from './sqlite-locks.js';
import type { StoreLocks } from './types.js';

const memoryStoreLocks = new WeakMap<MemoryStore, MemoryLocks>();

/** Whether openStoreLocks supports this store (decided from its kind; no I/O). */
export function hasStoreLocks(store: SyncStore): boolean {
  return store instanceof MemoryStore || store instanceof SqliteStore || sqlCall(store) !== null;
}

export function openStoreLocks(store: SyncStore): StoreLocks {
  if (store instanceof MemoryStore) {
    let locks = memoryStoreLocks.get(store);
    if (!locks) memoryStoreLocks.set(store, (locks = new MemoryLocks()));
    return locks;
  }
  if (store instanceof SqliteStore) return new SqliteLocks(store.url.slice('sqlite:'.length));
  const call = sqlCall(store);
  if (call) return new SqlLocks(call);
  throw new ScopeFsError('EINVAL', `store ${store.url} has no lock support: use a memory, sqlite, postgres or supabase store`);
}

/** PostgresStore (queryRows) and SupabaseStore (callRpc), told apart by shape so neither driver is imported here. */
interface PostgresLike { queryRows(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> }
interface SupabaseLike { callRpc(fn: string, args: Record<string, unknown>): Promise<unknown> }

function sqlCall(store: SyncStore): LockCall | null {
  const candidate = store as Partial<PostgresLike & SupabaseLike>;
  if (typeof candidate.queryRows === 'function') {
    const postgres = store as unknown as PostgresLike;
    return async (fn, args) => (await postgres.queryRows(lockCallSql(fn), lockCallValues(fn, args)))[0]?.result ?? null;
  }
  if (typeof candidate.callRpc === 'function') {
    const supabase = store as unknown as SupabaseLike;
    return (fn, args) => supabase.callRpc(fn, args);
  }
  return null;
}
