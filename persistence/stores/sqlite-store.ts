/**
 * The embedded SyncStore: one SQLite file (WAL) shared by the instances of a
 * scope on one machine, in one process or many.
 *
 * Gap-free feed: every push runs in a `BEGIN IMMEDIATE` transaction, which
 * holds SQLite's single write lock from its first statement, and takes its
 * revisions from the per-app heads table inside that transaction. Writers are
 * therefore serialised, revision order equals commit order, and a reader whose
 * snapshot shows head H has already got every change with revision <= H.
 *
 * Hints: while someone watches, the process's one change poller for this file
 * (sqlite-poller.ts, shared by every store on it) polls `PRAGMA data_version`
 * (it changes when another connection commits, and costs no table access)
 * every `pollMs` (up to 4× less often after a quiet second), reads the watched apps' heads only when it changed, and
 * hints this store's own pushes to every watcher in the process. Idle cost is
 * one statement per poll, whatever the file count and the number of stores.
 *
 * Broken files: a call or poll that fails with anything but "busy" (a WAL
 * overwritten under us reads as "file is not a database") closes the
 * connection, and the next call opens a fresh one: an open connection keeps
 * failing even once the file is repaired. A failing poll sends watchers an
 * `error` hint (they must not take silence for "nothing changed"), and a
 * `reconnected` hint once it reads the file again.
 */
import { resolve } from 'node:path';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { makeStateDirFor } from '../../src/private-files.js';
import { SqliteConnection } from '../sql/sqlite-connection.js';
import { decideAcquire, decideRelease, decideRenew, type LeaseDecision, type LeaseRecord } from './lease-rules.js';
import { isBrokenFile, isBusy } from './sqlite-errors.js';
import { DEFAULT_SQLITE_POLL_MS, acquireChangePoller, closeQuietly, runningChangePoller, type SqliteChangePoller } from './sqlite-poller.js';
import { checkIdentity, checkLeaseArgs, checkName, checkPushArgs, checkRevision, checkSinceArgs, refusedBatches, urlRest, type CheckedChange } from './store-input.js';
import type { LeaseState, PushChange, PushOutcome, SincePage, StoreHint, StoreRow, SyncStore } from './types.js';

export interface SqliteStoreOptions {
  path: string;
  /** How often watchers poll for commits of other connections while any move (default 25 ms; quiet, up to 4× longer). */
  pollMs?: number;
  /** How long a call waits for another connection's write lock before failing with EIO (default 5 s). */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/**
 * better-sqlite3 is synchronous, so SQLite's own busy wait blocks the event
 * loop. It waits at most this long at a time; longer waits retry
 * asynchronously until busyTimeoutMs has passed.
 */
const BLOCKING_WAIT_SLICE_MS = 50;
/** A since page stops early (with `more`) once its content passes this size. */
const SINCE_PAGE_BYTES = 16 * 1024 * 1024;

export class SqliteStore implements SyncStore {
  readonly url: string;
  private readonly file: string;
  private readonly pollMs: number;
  private readonly busyTimeoutMs: number;
  /** Each watch() subscription's cancel function (close() cancels them all). */
  private readonly subscriptions = new Set<() => void>();
  private connection: SqliteConnection | null = null;
  /** Between open() and close(): a connection dropped after an error is reopened by the next call. */
  private reopenable = false;
  private opening: Promise<void> | null = null;
  private closedQueries = 0;
  /** The shared change poller, while this store has watchers. */
  private poller: SqliteChangePoller | null = null;

  constructor(options: SqliteStoreOptions) {
    if (typeof options?.path !== 'string' || options.path.length === 0) {
      throw new ScopeFsError('EINVAL', 'sqlite store needs a database file path');
    }
    this.file = resolve(options.path);
    this.url = `sqlite:${this.file}`;
    this.pollMs = options.pollMs ?? DEFAULT_SQLITE_POLL_MS;
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  }

  /** Statements run by this store's connections, plus those of the change poller it shares while it watches. */
  get queryCount(): number {
    return this.closedQueries + (this.connection?.queryCount ?? 0) + (this.poller?.queryCount ?? 0);
  }

  /** Creates the file (and its directory) if needed and checks the schema. Idempotent. */
  open(): Promise<void> {
    if (this.connection) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    for (const cancel of [...this.subscriptions]) cancel();
    this.reopenable = false;
    this.dropConnection();
  }

  async head(app: string): Promise<number> {
    checkName('app', app);
    return this.withConnection('head', (db) => db.head(app));
  }

  async since(app: string, owners: readonly string[], cursor: number, limit?: number): Promise<SincePage> {
    const pageLimit = checkSinceArgs(app, owners, cursor, limit);
    return this.withConnection('since', (db) => db.read(() => readPage(db, app, owners, cursor, pageLimit)));
  }

  async get(app: string, owner: string, path: string): Promise<StoreRow | null> {
    checkIdentity(app, owner, path);
    return this.withConnection('get', (db) => db.row(app, owner, path));
  }

  async push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]> {
    const checked = checkPushArgs(app, instanceId, changes);
    if (checked.length === 0) return [];
    const { outcomes, head } = await this.withConnection('push', (db) =>
      db.write(() => applyChanges(db, app, instanceId, checked)),
    );
    if (outcomes.some((outcome) => outcome.status === 'ok')) this.hintOwnCommit(app, head);
    return outcomes;
  }

  async watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    checkName('app', app);
    // The poller reads data_version before the head is read, so no commit falls between the two.
    const poller = await this.retryWhileBusy('watch', () =>
      acquireChangePoller({ file: this.file, pollMs: this.pollMs, busyTimeoutMs: BLOCKING_WAIT_SLICE_MS }),
    );
    let remove: () => void;
    try {
      const head = await this.withConnection('watch', (db) => db.head(app));
      remove = poller.watch(app, head, listener);
    } catch (err) {
      poller.release();
      throw err;
    }
    this.poller = poller;
    const cancel = (): void => {
      if (!this.subscriptions.delete(cancel)) return;
      remove();
      poller.release();
      if (this.subscriptions.size === 0 && this.poller === poller) this.poller = null;
    };
    this.subscriptions.add(cancel);
    return async () => cancel();
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    return this.leaseCall('acquire lease', name, (current, now) => decideAcquire(current, { name, holder, ttlMs, now }));
  }

  async renewLease(name: string, holder: string, token: number, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    checkRevision('lease token', token);
    return this.leaseCall('renew lease', name, (current, now) => decideRenew(current, { name, holder, token, ttlMs, now }));
  }

  async releaseLease(name: string, holder: string, token: number): Promise<boolean> {
    checkLeaseArgs(name, holder, 1);
    checkRevision('lease token', token);
    return this.leaseCall('release lease', name, (current, now) => decideRelease(current, { holder, token, now }));
  }

  /** Reads, decides and writes one lease under the write lock, so processes sharing the file agree. */
  private leaseCall<T>(operation: string, name: string, decide: (current: LeaseRecord | undefined, now: number) => LeaseDecision<T>): Promise<T> {
    return this.withConnection(operation, (db) =>
      db.write(() => {
        const { answer, next } = decide(db.lease(name), Date.now());
        if (next) db.saveLease(next);
        return answer;
      }),
    );
  }

  private async connect(): Promise<void> {
    try {
      makeStateDirFor(this.file);
    } catch (err) {
      throw this.failure('open', err);
    }
    this.connection = await this.retryWhileBusy('open', () => this.newConnection());
    this.reopenable = true;
  }

  private newConnection(): SqliteConnection {
    return new SqliteConnection(this.file, { busyTimeoutMs: Math.min(this.busyTimeoutMs, BLOCKING_WAIT_SLICE_MS) });
  }

  private dropConnection(): void {
    this.closedQueries += closeQuietly(this.connection);
    this.connection = null;
  }

  private withConnection<T>(operation: string, work: (db: SqliteConnection) => T): Promise<T> {
    return this.retryWhileBusy(operation, () => work(this.openConnection(operation)));
  }

  private openConnection(operation: string): SqliteConnection {
    if (this.connection?.isOpen) return this.connection;
    if (!this.reopenable) throw new ScopeFsError('EIO', `sqlite store ${this.file} is not open (${operation})`);
    this.connection = this.newConnection();
    return this.connection;
  }

  /** Runs `attempt`, retrying asynchronously while another connection holds the lock. */
  private async retryWhileBusy<T>(operation: string, attempt: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let tries = 0; ; tries++) {
      try {
        return attempt();
      } catch (err) {
        if (!isBusy(err)) {
          if (isBrokenFile(err)) this.dropConnection();
          throw this.failure(operation, err);
        }
        if (Date.now() >= deadline) {
          throw new ScopeFsError(
            'EIO',
            `sqlite store ${this.file}: ${operation} failed: the database stayed locked by another ` +
              `connection for more than ${this.busyTimeoutMs} ms`,
            { cause: err },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** tries, 20)));
      }
    }
  }

  private failure(operation: string, err: unknown): ScopeFsError {
    if (isScopeFsError(err)) return err;
    return new ScopeFsError('EIO', `sqlite store ${this.file}: ${operation} failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }

  private hintOwnCommit(app: string, head: number): void {
    // Hinted at once, to every watcher in the process; the poller's data_version sees it too.
    (this.poller ?? runningChangePoller(this.file, this.pollMs))?.noteCommit(app, head);
  }
}

/** The table's entry for `sqlite:PATH` URLs. */
export function storeFromUrl(url: string): SqliteStore {
  return new SqliteStore({ path: urlRest(url, 'sqlite', 'a database file path') });
}

function readPage(db: SqliteConnection, app: string, owners: readonly string[], cursor: number, limit: number): SincePage {
  // Read the head first: it fixes the snapshot, so the rows below are consistent with it.
  const head = db.head(app);
  const rows: StoreRow[] = [];
  let bytes = 0;
  let more = false;
  for (const row of db.feed(app, owners, cursor, limit + 1)) {
    if (rows.length === limit || bytes >= SINCE_PAGE_BYTES) {
      more = true;
      break;
    }
    rows.push(row);
    bytes += row.size;
  }
  const last = rows.at(-1);
  return { rows, cursor: more && last ? last.revision : head, more };
}

function applyChanges(
  db: SqliteConnection,
  app: string,
  instanceId: string,
  changes: readonly CheckedChange[],
): { outcomes: PushOutcome[]; head: number } {
  const startHead = db.head(app);
  let head = startHead;
  const updatedAt = Date.now();
  const refused = refusedBatches(changes, (change) => db.revision(app, change.owner, change.path));
  const outcomes = changes.map((change): PushOutcome => {
    const { owner, path } = change;
    if (db.revision(app, owner, path) !== change.baseRevision || (change.batch !== undefined && refused.has(change.batch))) {
      return { owner, path, status: 'conflict', current: db.row(app, owner, path) };
    }
    head += 1;
    db.upsert({ ...change, app, revision: head, updatedAt, updatedBy: instanceId });
    return { owner, path, status: 'ok', revision: head };
  });
  if (head !== startHead) db.setHead(app, head);
  return { outcomes, head };
}
