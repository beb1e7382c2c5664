/**
 * The SQLite store's schema and the check that guards it. The version lives
 * in `PRAGMA user_version`; a database from a newer build is refused rather
 * than written with assumptions it does not hold.
 */
import { ScopeFsError } from '../../src/errors.js';

/**
 * The part of a better-sqlite3 Database the schema code uses. Declared here,
 * not imported, so the published types need no `@types/better-sqlite3`.
 */
export interface SchemaDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  transaction(fn: () => void): { immediate(): void };
}

/** Migrations by the version they produce; each runs inside one write transaction. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS scopefs_files (
        app        TEXT    NOT NULL,
        owner      TEXT    NOT NULL,
        path       TEXT    NOT NULL,
        revision   INTEGER NOT NULL,
        hash       TEXT,
        size       INTEGER NOT NULL,
        deleted    INTEGER NOT NULL,
        content    BLOB,
        updated_at INTEGER NOT NULL,
        updated_by TEXT    NOT NULL,
        PRIMARY KEY (app, owner, path)
      );
      -- The change feed: since(cursor) is a range scan on this index.
      CREATE UNIQUE INDEX IF NOT EXISTS scopefs_files_feed ON scopefs_files (app, revision);
      -- Per-app head revision; the next change of an app gets head + 1.
      CREATE TABLE IF NOT EXISTS scopefs_heads (
        app  TEXT    PRIMARY KEY,
        head INTEGER NOT NULL
      );`,
  },
  {
    version: 2,
    sql: `
      -- Leases with fencing tokens (see persistence/stores/lease-rules.ts); times in ms since the epoch.
      CREATE TABLE IF NOT EXISTS scopefs_leases (
        name       TEXT    PRIMARY KEY,
        holder     TEXT,
        token      INTEGER NOT NULL,
        expires_at INTEGER
      );`,
  },
];

/** The version this build writes: the newest migration's. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the schema up to SQLITE_SCHEMA_VERSION, or throws ESCHEMA when the
 * file was written by a newer build. Safe to run from several processes at
 * once: the version is re-read inside the write transaction.
 */
export function ensureSchema(db: SchemaDatabase, location: string): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  refuseNewer(version(), location);
  if (version() === SQLITE_SCHEMA_VERSION) return;
  db.transaction(() => {
    const current = version();
    refuseNewer(current, location);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}

function refuseNewer(version: number, location: string): void {
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new ScopeFsError(
      'ESCHEMA',
      `sqlite store ${location} has schema version ${version}, newer than this build supports ` +
        `(${SQLITE_SCHEMA_VERSION}); upgrade scopefs or use another database file`,
    );
  }
}
