/**
 * Opens a SQLite database that holds what only the root's owner may read
 * (history, the audit log, locks): its file and sidecars private, WAL mode
 * on disk, the schema checked or migrated (sqlite-schema.ts). `:memory:`
 * opens an in-memory database with the same schema.
 */
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { SQLITE_SIDECARS, makePrivateFile, makeStateDirFor } from '../../src/private-files.js';
import { ensureSchema, type SchemaDatabase } from './sqlite-schema.js';

export interface PrivateSqliteOptions {
  /** Names the database in errors: `history`, `audit log`, `store locks`. */
  label: string;
  /** How long a writer waits for another connection's lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** `PRAGMA synchronous` on disk; SQLite's default (FULL) when absent. */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * `connect` makes the connection (`new Database(file, { timeout })` of
 * better-sqlite3): passed in, so the published types of this module need no
 * `@types/better-sqlite3` (see SchemaDatabase).
 */
export function openPrivateSqlite<D extends SchemaDatabase & { close(): unknown }>(
  file: string,
  options: PrivateSqliteOptions,
  connect: (file: string, timeoutMs: number) => D,
): D {
  const inMemory = file === ':memory:';
  if (!inMemory) {
    makeStateDirFor(file);
    makePrivateFile(file, SQLITE_SIDECARS);
  }
  const db = connect(file, options.busyTimeoutMs ?? 5_000);
  try {
    if (!inMemory) {
      db.pragma('journal_mode = WAL');
      if (options.synchronous) db.pragma(`synchronous = ${options.synchronous}`);
    }
    ensureSchema(db, file);
    return db;
  } catch (err) {
    db.close();
    throw isScopeFsError(err) ? err : new ScopeFsError('EIO', `${options.label} ${file}: open failed: ${errorMessage(err)}`, { cause: err });
  }
}
