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
import { isLockHintSource, watchNotifiedLockChanges, type LockHintSource } from './notified-lock-changes.js';
import { isSignatureSource, watchSweptLockChanges } from './swept-lock-changes.js';
import type { StoreLocks } from './types.js';
import { storeFunctionCall } from '../sql/store-function-call.js';

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
  if (call) return new SqlLocks(call, isLockHintSource(store) ? notifiedAndSwept(store) : undefined);
  throw new ScopeFsError('EINVAL', `store ${store.url} has no lock support: use a memory, sqlite, postgres or supabase store`);
}

/** NOTIFY hints per app, plus the store's one shared safety sweep (swept-lock-changes.ts) for hints lost. */
function notifiedAndSwept(store: LockHintSource): StoreLocks['watchChanges'] {
  return (app, listener) => {
    const unhint = watchNotifiedLockChanges(store, app, listener);
    const unsweep = isSignatureSource(store) ? watchSweptLockChanges(store, app, listener) : undefined;
    return () => {
      unhint();
      unsweep?.();
    };
  };
}

function sqlCall(store: SyncStore): LockCall | null {
  return storeFunctionCall(store, lockCallSql, lockCallValues);
}
