/**
 * Opens a SQLite database that holds what only the root's owner may read
 * (history, the audit log, locks, tombstone purging): its file and sidecars
 * private, WAL mode on disk, the schema checked or migrated
 * (sqlite-schema.ts). `:memory:` opens an in-memory database with the same
 * schema.
 *
 * One connection per file (and settings) per process: the side tables of a
 * thousand scopes on one store file share one connection, not four each.
 * better-sqlite3 runs every statement and transaction synchronously, so
 * users of one connection never see each other's open transaction. Each
 * opener gets its own handle: its close() gives its use back (and its
 * `open` reads false from then on); the last one closes the connection.
 */
import { resolve } from 'node:path';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { SQLITE_SIDECARS, makePrivateFile, makeStateDirFor } from '../../src/private-files.js';
import { isBusy } from '../stores/sqlite-errors.js';
import { ensureSchema, type SchemaDatabase } from './sqlite-schema.js';

export interface PrivateSqliteOptions {
  /** Names the database in errors: `history`, `audit log`, `store locks`. */
  label: string;
  /** How long a writer waits for another connection's lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** `PRAGMA synchronous` on disk; default FULL (SQLite's own default, said explicitly so openers agree on one connection). */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * `connect` makes the connection (`new Database(file, { timeout })` of
 * better-sqlite3): passed in, so the published types of this module need no
 * `@types/better-sqlite3` (see SchemaDatabase).
 */
export function openPrivateSqlite<D extends PrivateDatabase>(
  file: string,
  options: PrivateSqliteOptions,
  connect: (file: string, timeoutMs: number) => D,
): D {
  if (file === ':memory:') return openConnection(file, options, connect);
  const key = [resolve(file), options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, options.synchronous ?? 'FULL'].join('\u0000');
  let entry = shared.get(key);
  if (!entry?.db.open) {
    entry = { db: openConnection(file, options, connect), users: 0 };
    shared.set(key, entry);
  }
  return handle(entry as Shared<D>, () => shared.get(key) === entry && shared.delete(key));
}

type PrivateDatabase = SchemaDatabase & { close(): unknown; readonly open: boolean };

interface Shared<D extends PrivateDatabase> {
  db: D;
  users: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const shared = new Map<string, Shared<PrivateDatabase>>();

/** One user's view of a shared connection: the connection itself, but with a close() (and `open`) of its own. */
function handle<D extends PrivateDatabase>(entry: Shared<D>, forget: () => void): D {
  entry.users += 1;
  let released = false;
  const close = (): void => {
    if (released) return;
    released = true;
    if (--entry.users > 0) return;
    forget();
    if (entry.db.open) entry.db.close();
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(entry.db, {
    get(target, key) {
      if (key === 'close') return close;
      if (key === 'open') return !released && target.open;
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      // Native methods need the real connection as `this`.
      if (!bound.has(key)) bound.set(key, (value as (...args: unknown[]) => unknown).bind(target));
      return bound.get(key);
    },
  });
}

function openConnection<D extends PrivateDatabase>(file: string, options: PrivateSqliteOptions, connect: (file: string, timeoutMs: number) => D): D {
  const inMemory = file === ':memory:';
  if (!inMemory) {
    makeStateDirFor(file);
    makePrivateFile(file, SQLITE_SIDECARS);
  }
  const timeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    const db = connect(file, timeoutMs);
    try {
      if (!inMemory) {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      }
      ensureSchema(db, file);
      return db;
    } catch (err) {
      db.close();
      // Two processes creating the file at once: switching a new file to WAL can be refused
      // at once ("database is locked") instead of waiting in the busy handler. Try again.
      if (isBusy(err) && Date.now() < deadline) {
        waitSync(Math.min(2 ** tries, 50));
        continue;
      }
      throw isScopeFsError(err) ? err : new ScopeFsError('EIO', `${options.label} ${file}: open failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** Blocks for `ms`: opening is synchronous (as better-sqlite3's own busy wait is). */
function waitSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
