/**
 * One change poller per SQLite store file (and poll interval) per process,
 * shared by every SqliteStore watching that file: a thousand scopes on one
 * file cost one `PRAGMA data_version` statement per interval, not a thousand.
 *
 * The poller has a connection of its own, so every commit — by another
 * process or by any store of this one — moves its data_version. When it
 * moved, it reads the head of each watched app once and hints the apps whose
 * head moved. A store's own pushes are hinted at once through noteCommit(),
 * which also tells the other stores of this process. A failing poll sends
 * every watcher an `error` hint, and a `reconnected` hint once the file reads
 * again; a broken file's connection is dropped and reopened by the next poll.
 *
 * watchCommits() hears every commit to the file (a moved data_version or a
 * noteCommit), whatever the app: the lock mirrors of a process's scopes
 * refresh on it instead of polling the lock table each.
 *
 * Reference counted: acquireChangePoller() takes a reference (opening the
 * connection and reading data_version on the first one, before the caller
 * reads its head, so no commit falls between the two), release() gives it
 * back; the last release stops the poll and closes the connection.
 */
import { ScopeFsError, errorMessage } from '../../src/errors.js';
import { SqliteConnection } from '../sql/sqlite-connection.js';
import { isBrokenFile, isBusy } from './sqlite-errors.js';
import { HintListeners, type HintListener } from './store-hints.js';
import type { StoreHint } from './types.js';

/** The poll interval of a SqliteStore that sets none. */
export const DEFAULT_SQLITE_POLL_MS = 25;

/**
 * Adaptive: after this long without a commit seen or noted, the interval
 * doubles with each quiet poll up to IDLE_BACKOFF × pollMs, and any commit
 * (seen, or noted by a store of this process) or new watcher brings it
 * straight back. A poll's wake-up, not its statement, is its cost: at 25 ms
 * an idle process spent about 1% of a core on it alone. Idle, a commit by
 * another process is heard within 100 ms instead of 25 ms; the commits that
 * follow it at the full rate again.
 */
export const QUIET_BEFORE_BACKOFF_MS = 1_000;
export const IDLE_BACKOFF = 4;

export interface ChangePollerOptions {
  /** The resolved database file path. */
  file: string;
  pollMs: number;
  /** SQLite's blocking busy wait for the poller's statements (a busy poll just waits for the next one). */
  busyTimeoutMs: number;
}

const pollers = new Map<string, SqliteChangePoller>();

/** The shared poller for this file and interval, with one more reference. Throws when the file cannot be opened. */
export function acquireChangePoller(options: ChangePollerOptions): SqliteChangePoller {
  const key = pollerKey(options.file, options.pollMs);
  const existing = pollers.get(key);
  if (existing) return existing.retain();
  const poller = new SqliteChangePoller(options, () => pollers.delete(key));
  pollers.set(key, poller);
  try {
    return poller.retain();
  } catch (err) {
    pollers.delete(key);
    throw err;
  }
}

/** The running poller for a file and interval, if any (for tests and query counts). */
export function runningChangePoller(file: string, pollMs: number): SqliteChangePoller | undefined {
  return pollers.get(pollerKey(file, pollMs));
}

function pollerKey(file: string, pollMs: number): string {
  return `${pollMs}\u0000${file}`;
}

export class SqliteChangePoller {
  private readonly hints = new HintListeners();
  /** Listeners of every commit, under one key. */
  private readonly commits = new HintListeners();
  private readonly lastHeads = new Map<string, number>();
  private connection: SqliteConnection | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The current delay between polls: pollMs while anything moves, up to IDLE_BACKOFF × pollMs when quiet. */
  private delayMs: number;
  private quietSince = 0;
  private references = 0;
  private lastDataVersion = 0;
  private failing = false;
  private closedQueries = 0;

  constructor(
    private readonly options: ChangePollerOptions,
    private readonly onStopped: () => void,
  ) {
    this.delayMs = options.pollMs;
  }

  /** The delay before the next poll (pollMs while active; longer when quiet). */
  get currentDelayMs(): number {
    return this.delayMs;
  }

  /** Statements this poller ran, over all its connections. */
  get queryCount(): number {
    return this.closedQueries + (this.connection?.queryCount ?? 0);
  }

  get referenceCount(): number {
    return this.references;
  }

  /** Takes a reference; the first one opens the connection, reads data_version and starts the poll. */
  retain(): this {
    if (this.references === 0) this.start();
    this.references += 1;
    return this;
  }

  /** Gives a reference back; the last one stops the poll, closes the connection and forgets the poller. */
  release(): void {
    if (this.references === 0) return;
    this.references -= 1;
    if (this.references > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.hints.clear();
    this.commits.clear();
    this.lastHeads.clear();
    this.dropConnection();
    this.onStopped();
  }

  /**
   * Hints `listener` of commits to `app` after `head` (read by the caller
   * after it acquired this poller). Returns the function that removes it.
   */
  watch(app: string, head: number, listener: HintListener): () => void {
    if (this.references === 0) throw new ScopeFsError('EIO', `the change poller of ${this.options.file} is stopped`);
    if (!this.lastHeads.has(app)) this.lastHeads.set(app, head);
    this.wake();
    const remove = this.hints.add(app, listener);
    return () => {
      remove();
      if (!this.hints.apps().includes(app)) this.lastHeads.delete(app);
    };
  }

  /**
   * Calls `listener` after any commit to the file seen by a poll (or noted),
   * with `error` when polls fail and `reconnected` once they read again.
   * Returns the function that removes it.
   */
  watchCommits(listener: HintListener): () => void {
    if (this.references === 0) throw new ScopeFsError('EIO', `the change poller of ${this.options.file} is stopped`);
    return this.commits.add(ANY, listener);
  }

  /** A store of this process committed `head` to `app`: hint every watcher of the app now. */
  noteCommit(app: string, head: number): void {
    if (this.lastHeads.has(app)) this.lastHeads.set(app, Math.max(head, this.lastHeads.get(app) ?? 0));
    this.hints.emit(app, { head });
    this.commits.emit(ANY, {});
    this.wake();
  }

  private start(): void {
    try {
      this.lastDataVersion = this.openConnection().dataVersion();
    } catch (err) {
      this.dropConnection();
      throw err;
    }
    this.quietSince = Date.now();
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poll();
      // A listener may have released the last reference (or a fresh start scheduled already).
      if (this.references > 0 && this.timer === null) this.schedule();
    }, this.delayMs);
    // Hints alone must not keep a process alive.
    this.timer.unref();
  }

  /** Something moved: poll at the full rate again, from now. */
  private wake(): void {
    this.quietSince = Date.now();
    if (this.delayMs === this.options.pollMs) return;
    this.delayMs = this.options.pollMs;
    if (this.timer === null) return; // inside a poll: it schedules the next one
    clearTimeout(this.timer);
    this.schedule();
  }

  /** A poll that saw nothing: once quiet long enough, wait longer before the next. */
  private quietPoll(): void {
    if (Date.now() - this.quietSince < QUIET_BEFORE_BACKOFF_MS) return;
    this.delayMs = Math.min(this.delayMs * 2, this.options.pollMs * IDLE_BACKOFF);
  }

  /** One statement when nothing changed; a head read per watched app when something did. */
  private poll(): void {
    try {
      const db = this.openConnection();
      const version = db.dataVersion();
      if (this.failing) return this.recovered(db, version);
      if (version === this.lastDataVersion) return this.quietPoll();
      this.lastDataVersion = version;
      this.wake();
      this.commits.emit(ANY, {});
      this.hintMovedApps(db);
    } catch (err) {
      if (isBusy(err)) return; // the next poll tries again
      if (isBrokenFile(err)) this.dropConnection();
      if (this.failing) return;
      this.failing = true;
      this.wake(); // a failing file is retried at the full rate
      this.emitEverywhere({ error: `sqlite store ${this.options.file}: poll failed: ${errorMessage(err)}` });
    }
  }

  /** The file reads again after failed polls: watchers catch up by cursor. */
  private recovered(db: SqliteConnection, version: number): void {
    for (const app of this.hints.apps()) this.lastHeads.set(app, db.head(app));
    this.lastDataVersion = version;
    this.failing = false;
    this.emitEverywhere({ reconnected: true });
  }

  private emitEverywhere(hint: StoreHint): void {
    this.hints.emitAll(hint);
    this.commits.emitAll(hint);
  }

  /** Hints the watched apps whose head moved: a head read each for a few apps, one read of all heads for many. */
  private hintMovedApps(db: SqliteConnection): void {
    const apps = this.hints.apps();
    const heads = apps.length > FEW_APPS ? db.heads() : undefined;
    for (const app of apps) {
      const head = heads ? (heads.get(app) ?? 0) : db.head(app);
      if (head === this.lastHeads.get(app)) continue;
      this.lastHeads.set(app, head);
      this.hints.emit(app, { head });
    }
  }

  private openConnection(): SqliteConnection {
    if (this.connection?.isOpen) return this.connection;
    this.connection = new SqliteConnection(this.options.file, { busyTimeoutMs: this.options.busyTimeoutMs });
    return this.connection;
  }

  private dropConnection(): void {
    this.closedQueries += closeQuietly(this.connection);
    this.connection = null;
  }
}

/**
 * Up to this many watched apps, a moved data_version costs a head read per
 * app; beyond, one statement reads every app's head (a thousand scopes on one
 * file would otherwise cost a thousand statements per poll while any writes).
 */
const FEW_APPS = 4;

/** The key commit listeners are kept under (no app is named so: app names are not empty). */
const ANY = '';

/** Closes a connection that may belong to a broken file; returns the statements it ran. */
export function closeQuietly(connection: SqliteConnection | null): number {
  if (!connection) return 0;
  try {
    if (connection.isOpen) connection.close();
  } catch {
    // Closing a connection to a broken file can fail too; it is gone either way.
  }
  return connection.queryCount;
}
