/**
 * The audit log inside a sync store's database, with the store's app as
 * scope: one log every instance of the app writes to. The memory store's is
 * kept per store object (scopes sharing `memory:NAME` share it); SQLite's is
 * its file; PostgreSQL's and Supabase's go through the store's pool or RPC
 * and migration 10's functions (the store must be open). Any other store
 * (an app's own): undefined, and the scope keeps its log local.
 */
import { MemoryStore } from '../stores/memory-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import type { SyncStore } from '../stores/types.js';
import type { AuditLog } from '../../src/audit/types.js';
import { MemoryAuditLog } from './memory-audit.js';
import { SqlAuditLog, auditCallSql, auditCallValues } from './sql-audit.js';
import { storeFunctionCall } from '../sql/store-function-call.js';
import { SqliteAuditLog } from './sqlite-audit.js';

export interface StoreAudit {
  log: AuditLog;
  close(): void;
}

const memoryLogs = new WeakMap<MemoryStore, Map<string, MemoryAuditLog>>();

export function openStoreAudit(store: SyncStore, app: string): StoreAudit | undefined {
  if (store instanceof MemoryStore) {
    let logs = memoryLogs.get(store);
    if (!logs) memoryLogs.set(store, (logs = new Map()));
    let log = logs.get(app);
    if (!log) logs.set(app, (log = new MemoryAuditLog()));
    return { log, close: () => undefined };
  }
  if (store instanceof SqliteStore) {
    const log = new SqliteAuditLog(store.url.slice('sqlite:'.length), app);
    return { log, close: () => log.close() };
  }
  const call = storeFunctionCall(store, auditCallSql, auditCallValues);
  return call ? { log: new SqlAuditLog(call, app), close: () => undefined } : undefined;
}
