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
  {
    version: 3,
    sql: `
      -- History (persistence/history/): versions per scope, content stored once per distinct hash.
      CREATE TABLE IF NOT EXISTS scopefs_history_heads (
        scope          TEXT    PRIMARY KEY,
        revision       INTEGER NOT NULL,  -- the scope's last history revision
        checkpoint_seq INTEGER NOT NULL,  -- the scope's last checkpoint sequence number
        bytes          INTEGER NOT NULL   -- bytes of distinct content stored
      );
      CREATE TABLE IF NOT EXISTS scopefs_history_contents (
        scope   TEXT NOT NULL,
        hash    TEXT NOT NULL,
        size    INTEGER NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (scope, hash)
      );
      CREATE TABLE IF NOT EXISTS scopefs_history_versions (
        scope    TEXT    NOT NULL,
        revision INTEGER NOT NULL,
        path     TEXT    NOT NULL,
        hash     TEXT,
        size     INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        origin   TEXT    NOT NULL,
        actor    TEXT,
        instance TEXT,
        deleted  INTEGER NOT NULL,
        PRIMARY KEY (scope, revision)
      );
      CREATE INDEX IF NOT EXISTS scopefs_history_versions_path ON scopefs_history_versions (scope, path, revision);
      CREATE INDEX IF NOT EXISTS scopefs_history_versions_at ON scopefs_history_versions (scope, at);
      CREATE INDEX IF NOT EXISTS scopefs_history_versions_hash ON scopefs_history_versions (scope, hash);
      -- Each path's latest version and version count (idempotent record, listDeleted, per-path retention).
      CREATE TABLE IF NOT EXISTS scopefs_history_paths (
        scope   TEXT    NOT NULL,
        path    TEXT    NOT NULL,
        latest  INTEGER NOT NULL,
        hash    TEXT,
        deleted INTEGER NOT NULL,
        count   INTEGER NOT NULL,
        PRIMARY KEY (scope, path)
      );
      CREATE INDEX IF NOT EXISTS scopefs_history_paths_deleted ON scopefs_history_paths (scope, deleted, latest);
      CREATE TABLE IF NOT EXISTS scopefs_history_checkpoints (
        scope      TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        message    TEXT,
        prefix     TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        file_count INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS scopefs_history_checkpoints_seq ON scopefs_history_checkpoints (scope, seq);
      -- Manifests as ranges: an entry belongs to the checkpoints of its prefix with from_seq <= seq < to_seq
      -- (to_seq NULL: still current), so a checkpoint adds rows only for what changed since the last one.
      CREATE TABLE IF NOT EXISTS scopefs_history_manifest (
        scope    TEXT    NOT NULL,
        prefix   TEXT    NOT NULL,
        path     TEXT    NOT NULL,
        from_seq INTEGER NOT NULL,
        to_seq   INTEGER,
        hash     TEXT    NOT NULL,
        size     INTEGER NOT NULL,
        PRIMARY KEY (scope, prefix, path, from_seq)
      );
      CREATE INDEX IF NOT EXISTS scopefs_history_manifest_hash ON scopefs_history_manifest (scope, hash, path);
      -- Tombstone purging: the cursor each instance has seen, and how far tombstones were purged.
      CREATE TABLE IF NOT EXISTS scopefs_instance_cursors (
        app      TEXT    NOT NULL,
        instance TEXT    NOT NULL,
        cursor   INTEGER NOT NULL,
        seen_at  INTEGER NOT NULL,
        PRIMARY KEY (app, instance)
      );
      CREATE TABLE IF NOT EXISTS scopefs_tombstone_horizons (
        app     TEXT    PRIMARY KEY,
        horizon INTEGER NOT NULL
      );`,
  },
  {
    version: 4,
    sql: `
      -- The audit log (src/audit/, persistence/audit/): one row per entry, idempotent by (scope, id).
      CREATE TABLE IF NOT EXISTS scopefs_audit (
        scope     TEXT    NOT NULL,
        id        TEXT    NOT NULL,
        at        INTEGER NOT NULL,
        actor     TEXT    NOT NULL,
        operation TEXT    NOT NULL,
        paths     TEXT    NOT NULL, -- a JSON array
        revision  INTEGER,
        result    TEXT    NOT NULL,
        code      TEXT,
        message   TEXT,
        source    TEXT,
        instance  TEXT,
        PRIMARY KEY (scope, id)
      );
      CREATE INDEX IF NOT EXISTS scopefs_audit_at ON scopefs_audit (scope, at);
      CREATE INDEX IF NOT EXISTS scopefs_audit_actor ON scopefs_audit (scope, actor, at);`,
  },
  {
    version: 5,
    sql: `
      -- Store locks (persistence/locks/sqlite-locks.ts): live rows per app; the fence counter only grows.
      CREATE TABLE IF NOT EXISTS scopefs_locks (
        app        TEXT NOT NULL,
        token      TEXT NOT NULL,
        fence      INTEGER NOT NULL,
        target     TEXT NOT NULL,
        owner      TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (app, token)
      );
      CREATE TABLE IF NOT EXISTS scopefs_lock_fences (
        app   TEXT PRIMARY KEY,
        fence INTEGER NOT NULL
      );`,
  },
  {
    version: 6,
    sql: `
      -- Tailed records (src/tail/, persistence/records/): exactly once per app by key; seq is the app's cursor.
      CREATE TABLE IF NOT EXISTS scopefs_records (
        app           TEXT    NOT NULL,
        key           TEXT    NOT NULL,
        seq           INTEGER NOT NULL,
        source        TEXT    NOT NULL,
        file          TEXT    NOT NULL,
        byte_offset   INTEGER NOT NULL,
        line_no       INTEGER NOT NULL,
        value         TEXT,    -- the parsed line as JSON text; NULL when it did not parse
        raw           TEXT,    -- the line itself when it did not parse (a prefix when too long)
        error_code    TEXT,
        error_message TEXT,
        ts            INTEGER,
        at            INTEGER NOT NULL,
        PRIMARY KEY (app, key)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS scopefs_records_seq ON scopefs_records (app, seq);
      CREATE INDEX IF NOT EXISTS scopefs_records_file ON scopefs_records (app, source, file, seq);
      CREATE TABLE IF NOT EXISTS scopefs_record_heads (
        app  TEXT    PRIMARY KEY,
        head INTEGER NOT NULL
      );
      -- Where each tailed file was read to, with its identity (local to the machine: device and inode).
      CREATE TABLE IF NOT EXISTS scopefs_tail_offsets (
        app    TEXT NOT NULL,
        source TEXT NOT NULL,
        file   TEXT NOT NULL,
        state  TEXT NOT NULL, -- JSON of src/tail/identity.ts FileCursor
        PRIMARY KEY (app, source, file)
      );`,
  },
  {
    version: 7,
    sql: `
      -- Webhook subscriptions (src/webhooks/, persistence/webhooks/): per app in a store, 'local' under a root.
      CREATE TABLE IF NOT EXISTS scopefs_webhooks (
        app        TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        url        TEXT    NOT NULL,
        events     TEXT    NOT NULL, -- a JSON array
        path_glob  TEXT,
        secret     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (app, id)
      );
      -- The webhook outbox (local to an instance, under its root): one row per event and subscription.
      CREATE TABLE IF NOT EXISTS scopefs_webhook_outbox (
        id         TEXT    PRIMARY KEY, -- the delivery id: <event id>.<webhook id>
        event_id   TEXT    NOT NULL,    -- the idempotency key receivers dedupe by
        webhook    TEXT    NOT NULL,
        body       TEXT    NOT NULL,    -- the JSON delivered
        state      TEXT    NOT NULL,    -- pending | delivered | dead
        attempts   INTEGER NOT NULL,
        next_at    INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS scopefs_webhook_outbox_due ON scopefs_webhook_outbox (state, next_at);`,
  },
  {
    version: 8,
    sql: `
      -- The batch a row was pushed in (PushChange.batch): readers apply a batch's rows together.
      ALTER TABLE scopefs_files ADD COLUMN batch TEXT;`,
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
