/**
 * Store locks in a SQLite database (schema 5, persistence/sql/sqlite-schema.ts):
 * the SQLite store's file, so every process on the machine sees one set of
 * locks. Each call is one IMMEDIATE transaction (SQLite's write lock from the
 * start), so two processes cannot both be granted overlapping locks. The
 * clock is the machine's (every process sharing the file shares it).
 */
import Database from 'better-sqlite3';
import type { LockRecord } from '../../src/coordination/lock-rules.js';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { decideAcquire, decideRelease, decideRenew, liveOnly } from './lock-decisions.js';
import type { LockChange } from './lock-signatures.js';
import { watchLockChanges } from './sqlite-lock-changes.js';
import { checkApp, checkRequest, checkToken, checkTtl, newLockToken } from './lock-input.js';
import type { StoreLockAnswer, StoreLockRequest, StoreLocks } from './types.js';

const ROWS = 'SELECT token, fence, target, owner, expires_at AS expiresAt FROM scopefs_locks WHERE app = ?';
const ROW = `${ROWS} AND token = ?`;
const FENCE = 'SELECT fence FROM scopefs_lock_fences WHERE app = ?';
const SWEEP = 'DELETE FROM scopefs_locks WHERE app = ? AND expires_at <= ?';
const INSERT = 'INSERT INTO scopefs_locks (app, token, fence, target, owner, expires_at) VALUES (?, ?, ?, ?, ?, ?)';
const SAVE_FENCE = `INSERT INTO scopefs_lock_fences (app, fence) VALUES (?, ?)
  ON CONFLICT (app) DO UPDATE SET fence = excluded.fence WHERE excluded.fence > scopefs_lock_fences.fence`;
const EXTEND = 'UPDATE scopefs_locks SET expires_at = ? WHERE app = ? AND token = ?';
const DELETE = 'DELETE FROM scopefs_locks WHERE app = ? AND token = ?';

export class SqliteLocks implements StoreLocks {
  private readonly db: Database.Database;
  private readonly watches = new Set<() => void>();

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openPrivateSqlite(file, { label: 'store locks' }, (path, timeout) => new Database(path, { timeout }));
  }

  async acquire(app: string, request: StoreLockRequest): Promise<StoreLockAnswer> {
    checkApp(app);
    const checked = checkRequest(request);
    return this.write(() => {
      const now = this.now();
      const rows = this.db.prepare(ROWS).all(app) as LockRecord[];
      const fence = (this.db.prepare(FENCE).get(app) as { fence: number } | undefined)?.fence ?? 0;
      const decision = decideAcquire(rows, fence, { ...checked, token: newLockToken(), now });
      if (decision.next) {
        const { lock } = decision.next;
        this.db.prepare(SWEEP).run(app, now);
        this.db.prepare(INSERT).run(app, lock.token, lock.fence, lock.target, lock.owner, lock.expiresAt);
        this.db.prepare(SAVE_FENCE).run(app, decision.next.fence);
      }
      return decision.answer;
    });
  }

  async renew(app: string, token: string, ttlMs: number): Promise<LockRecord | null> {
    checkApp(app);
    checkToken(token);
    checkTtl(ttlMs);
    return this.write(() => {
      const next = decideRenew(this.row(app, token), ttlMs, this.now());
      if (next) this.db.prepare(EXTEND).run(next.expiresAt, app, token);
      return next;
    });
  }

  async release(app: string, token: string): Promise<boolean> {
    checkApp(app);
    checkToken(token);
    return this.write(() => {
      const wasLive = decideRelease(this.row(app, token), this.now());
      this.db.prepare(DELETE).run(app, token);
      return wasLive;
    });
  }

  async live(app: string): Promise<LockRecord[]> {
    return liveOnly(this.db.prepare(ROWS).all(checkApp(app)) as LockRecord[], this.now());
  }

  async check(app: string, token: string): Promise<LockRecord | null> {
    const row = this.row(checkApp(app), checkToken(token));
    return row ? (liveOnly([row], this.now())[0] ?? null) : null;
  }

  /** Changes to the app's locks, heard through the process's one watch of the file (sqlite-lock-changes.ts). */
  watchChanges(app: string, listener: (change: LockChange) => void): () => void {
    const remove = watchLockChanges(this.file, checkApp(app), listener);
    const stop = (): void => {
      if (this.watches.delete(stop)) remove();
    };
    this.watches.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    this.db.close();
  }

  private row(app: string, token: string): LockRecord | undefined {
    return this.db.prepare(ROW).get(app, token) as LockRecord | undefined;
  }

  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw isScopeFsError(err) ? err : new ScopeFsError('EIO', `store locks ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

