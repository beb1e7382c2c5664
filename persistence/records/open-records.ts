/**
 * The records table inside a sync store's database, shared by every instance
 * of the app: the memory store's per store object, SQLite's in its file,
 * PostgreSQL's and Supabase's through the store's pool or RPC and migration
 * 8's functions (the store must be open).
 */
import { ScopeFsError } from '../../src/errors.js';
import { MemoryStore } from '../stores/memory-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import type { SyncStore } from '../stores/types.js';
import { MemoryRecords } from './memory-records.js';
import { SqlRecords, recordCallSql, recordCallValues, type RecordCall } from './sql-records.js';
import { SqliteRecords } from './sqlite-records.js';
import type { StoreRecords } from './types.js';
import { storeFunctionCall } from '../sql/store-function-call.js';

const memoryStoreRecords = new WeakMap<MemoryStore, MemoryRecords>();

/** Whether openStoreRecords supports this store (decided from its kind; no I/O). */
export function hasStoreRecords(store: SyncStore): boolean {
  return store instanceof MemoryStore || store instanceof SqliteStore || sqlCall(store) !== null;
}

export function openStoreRecords(store: SyncStore): StoreRecords {
  if (store instanceof MemoryStore) {
    let records = memoryStoreRecords.get(store);
    if (!records) memoryStoreRecords.set(store, (records = new MemoryRecords()));
    return records;
  }
  if (store instanceof SqliteStore) return new SqliteRecords(store.url.slice('sqlite:'.length));
  const call = sqlCall(store);
  if (call) return new SqlRecords(call);
  throw new ScopeFsError('EINVAL', `store ${store.url} has no records table: use a memory, sqlite, postgres or supabase store`);
}

function sqlCall(store: SyncStore): RecordCall | null {
  return storeFunctionCall(store, recordCallSql, recordCallValues);
}
