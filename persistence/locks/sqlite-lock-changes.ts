/**
 * Which apps' locks changed in a SQLite store file: one per file per
 * process, shared by the lock mirrors of every scope on it. It hears every
 * commit to the file through the process's change poller of the file
 * (sqlite-poller.ts; no poll of its own), then reads one signature per app
 * in one statement (live rows and their highest fence) and tells only the
 * mirrors of the apps whose signature moved. A new lock always moves it (its
 * fence is above every earlier one of the app), a released or swept one
 * lowers the count; a renewal does not, which is fine: a mirror holding a
 * lock refreshes on its own timer while the lock lives.
 *
 * A failing poll or read is passed on as `error` (mirrors then poll), and a
 * read that works again as `reconnected`.
 */
import Database from 'better-sqlite3';
import { errorMessage } from '../../src/errors.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { DEFAULT_SQLITE_POLL_MS, acquireChangePoller, type SqliteChangePoller } from '../stores/sqlite-poller.js';
import type { StoreHint } from '../stores/types.js';

export interface LockChange {
  error?: string;
  reconnected?: boolean;
}
export type LockChangeListener = (change: LockChange) => void;

const SIGNATURES = 'SELECT app, count(*) AS n, max(fence) AS f FROM scopefs_locks GROUP BY app';
/** The poller's blocking busy wait, as the store's (a busy poll just waits for the next one). */
const POLLER_BUSY_MS = 50;

const feeds = new Map<string, SqliteLockChanges>();

/** Calls `listener` when the locks of `app` in `file` may have changed; returns the function that stops it. Throws when the file cannot be read. */
export function watchLockChanges(file: string, app: string, listener: LockChangeListener): () => void {
  let feed = feeds.get(file);
  if (!feed) {
    feed = new SqliteLockChanges(file, () => feeds.delete(file));
    feeds.set(file, feed);
  }
  return feed.add(app, listener);
}

class SqliteLockChanges {
  private readonly byApp = new Map<string, Set<LockChangeListener>>();
  private readonly db: Database.Database;
  private readonly poller: SqliteChangePoller;
  private readonly unwatch: () => void;
  private signatures: Map<string, string>;
  private failing = false;

  constructor(
    private readonly file: string,
    private readonly forget: () => void,
  ) {
    this.db = openPrivateSqlite(file, { label: 'store locks' }, (path, timeout) => new Database(path, { timeout }));
    try {
      this.poller = acquireChangePoller({ file, pollMs: DEFAULT_SQLITE_POLL_MS, busyTimeoutMs: POLLER_BUSY_MS });
    } catch (err) {
      this.db.close();
      forget();
      throw err;
    }
    this.signatures = this.read();
    this.unwatch = this.poller.watchCommits((hint) => this.onCommit(hint));
  }

  add(app: string, listener: LockChangeListener): () => void {
    let listeners = this.byApp.get(app);
    if (!listeners) this.byApp.set(app, (listeners = new Set()));
    const entry: LockChangeListener = (change) => listener(change);
    listeners.add(entry);
    return () => {
      if (!listeners.delete(entry)) return;
      if (listeners.size === 0 && this.byApp.get(app) === listeners) this.byApp.delete(app);
      if (this.byApp.size === 0) this.stop();
    };
  }

  private stop(): void {
    this.forget();
    this.unwatch();
    this.poller.release();
    this.db.close();
  }

  private onCommit(hint: StoreHint): void {
    if (hint.error) return this.failed(hint.error);
    let next: Map<string, string>;
    try {
      next = this.read();
    } catch (err) {
      return this.failed(`store locks ${this.file}: ${errorMessage(err)}`);
    }
    const previous = this.signatures;
    this.signatures = next;
    if (this.failing || hint.reconnected) {
      this.failing = false;
      return this.tellAll({ reconnected: true });
    }
    for (const [app, listeners] of this.byApp) if (next.get(app) !== previous.get(app)) tell(listeners, {});
  }

  private failed(error: string): void {
    if (this.failing) return;
    this.failing = true;
    this.tellAll({ error });
  }

  private tellAll(change: LockChange): void {
    for (const listeners of this.byApp.values()) tell(listeners, change);
  }

  private read(): Map<string, string> {
    const rows = this.db.prepare(SIGNATURES).all() as Array<{ app: string; n: number; f: number }>;
    return new Map(rows.map((row) => [row.app, `${row.n}:${row.f}`]));
  }
}

function tell(listeners: Set<LockChangeListener>, change: LockChange): void {
  for (const listener of [...listeners]) {
    try {
      listener(change);
    } catch (err) {
      process.emitWarning(`scopefs: a lock change listener threw: ${errorMessage(err)}`);
    }
  }
}
