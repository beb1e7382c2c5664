/**
 * Which apps' locks changed in a SQLite store file: one watch per file per
 * process, shared by the lock mirrors of every scope on it. It hears every
 * commit to the file through the process's change poller of the file
 * (sqlite-poller.ts; no poll of its own), then reads every app's lock
 * signature in one statement and tells only the mirrors of the apps whose
 * signature moved (lock-signatures.ts). The same read runs on the shared
 * safety timer (one statement per file per process per period), in case the
 * poller folded a change away.
 */
import Database from 'better-sqlite3';
import { errorMessage } from '../../src/errors.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { DEFAULT_SQLITE_POLL_MS, acquireChangePoller, type SqliteChangePoller } from '../stores/sqlite-poller.js';
import type { StoreHint } from '../stores/types.js';
import { LockSignatures, safetySweep, type LockChangeListener, type SignatureRows } from './lock-signatures.js';

const SIGNATURES = 'SELECT app, count(*) AS n, max(fence) AS f FROM scopefs_locks GROUP BY app';
/** The poller's blocking busy wait, as the store's (a busy poll just waits for the next one). */
const POLLER_BUSY_MS = 50;

const watches = new Map<string, SqliteLockChanges>();

/** Calls `listener` when the locks of `app` in `file` may have changed; returns the function that stops it. Throws when the file cannot be read. */
export function watchLockChanges(file: string, app: string, listener: LockChangeListener): () => void {
  let watch = watches.get(file);
  if (!watch) {
    watch = new SqliteLockChanges(file, () => watches.delete(file));
    watches.set(file, watch);
  }
  return watch.signatures.add(app, listener);
}

class SqliteLockChanges {
  readonly signatures = new LockSignatures(() => this.stop());
  private readonly db: Database.Database;
  private readonly poller: SqliteChangePoller;
  private readonly unwatch: () => void;
  private readonly stopSweep: () => void;

  constructor(
    private readonly file: string,
    private readonly forget: () => void,
  ) {
    this.db = openPrivateSqlite(file, { label: 'store locks' }, (path, timeout) => new Database(path, { timeout }));
    try {
      this.poller = acquireChangePoller({ file, pollMs: DEFAULT_SQLITE_POLL_MS, busyTimeoutMs: POLLER_BUSY_MS });
    } catch (err) {
      this.db.close();
      throw err;
    }
    try {
      this.signatures.start(this.read());
    } catch (err) {
      this.poller.release();
      this.db.close();
      throw err;
    }
    this.unwatch = this.poller.watchCommits((hint) => this.onCommit(hint));
    this.stopSweep = safetySweep(() => this.onCommit({}));
  }

  private stop(): void {
    this.forget();
    this.stopSweep();
    this.unwatch();
    this.poller.release();
    this.db.close();
  }

  private onCommit(hint: StoreHint): void {
    if (hint.error) return this.signatures.failed(hint.error);
    let rows: SignatureRows;
    try {
      rows = this.read();
    } catch (err) {
      return this.signatures.failed(`store locks ${this.file}: ${errorMessage(err)}`);
    }
    this.signatures.update(rows, hint.reconnected);
  }

  private read(): SignatureRows {
    return this.db.prepare(SIGNATURES).all() as SignatureRows;
  }
}
