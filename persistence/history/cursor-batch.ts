/**
 * Coalesces the cursor reports (noteCursor) of the scopes of one process on
 * one SQLite store file: the reports made in the same turn of the event loop
 * are written in one transaction, so a thousand scopes starting together
 * cost a few synced commits, not a thousand. Each report's promise settles
 * only once the transaction holding it committed (or failed), so a report
 * acknowledged is as durable as one written alone.
 */

/**
 * The part of a better-sqlite3 handle this uses, spelled out so the
 * published types need no `@types/better-sqlite3`.
 */
export interface CursorDatabase {
  readonly open: boolean;
  prepare(sql: string): { run(...params: unknown[]): unknown };
  transaction(fn: () => void): { immediate(): void };
}

export interface CursorReport {
  app: string;
  instance: string;
  cursor: number;
  now: number;
}

interface Pending extends CursorReport {
  db: CursorDatabase;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const batches = new Map<string, Pending[]>();

/** Queues `report` for `file`'s next batch, written through `db` (or another open handle on the same connection). */
export function noteCursorBatched(file: string, db: CursorDatabase, sql: string, report: CursorReport): Promise<void> {
  return new Promise((resolve, reject) => {
    let batch = batches.get(file);
    if (!batch) {
      batches.set(file, (batch = []));
      setImmediate(() => flush(file, sql));
    }
    batch.push({ ...report, db, resolve, reject });
  });
}

function flush(file: string, sql: string): void {
  const batch = batches.get(file) ?? [];
  batches.delete(file);
  // Every handle is a view of one shared connection: any open one writes for all.
  const db = batch.find((entry) => entry.db.open)?.db;
  if (!db) return batch.forEach((entry) => entry.reject(new Error('the tombstone connection is closed')));
  try {
    const statement = db.prepare(sql);
    db.transaction(() => {
      for (const entry of batch) statement.run(entry.app, entry.instance, entry.cursor, entry.now);
    }).immediate();
  } catch (err) {
    return batch.forEach((entry) => entry.reject(err));
  }
  for (const entry of batch) entry.resolve();
}
