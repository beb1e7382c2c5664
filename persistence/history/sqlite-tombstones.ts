/**
 * Tombstone purging (see tombstones.ts) for the SQLite store's file, on the
 * process's side-table connection to it (private-sqlite.ts); tables scopefs_instance_cursors and
 * scopefs_tombstone_horizons come with schema 3.
 */
import Database from 'better-sqlite3';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { checkName, checkRevision } from '../stores/store-input.js';
import { noteCursorBatched } from './cursor-batch.js';
import { purgeBound, type PurgeResult, type TombstonePurger } from './tombstones.js';

const SQL = {
  noteCursor: `INSERT INTO scopefs_instance_cursors (app, instance, cursor, seen_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (app, instance) DO UPDATE SET cursor = max(cursor, excluded.cursor), seen_at = excluded.seen_at`,
  recentCursors: 'SELECT cursor FROM scopefs_instance_cursors WHERE app = ? AND seen_at >= ?',
  purge: 'DELETE FROM scopefs_files WHERE app = ? AND deleted = 1 AND revision <= ? AND updated_at < ? RETURNING revision',
  horizon: 'SELECT horizon FROM scopefs_tombstone_horizons WHERE app = ?',
  saveHorizon: `INSERT INTO scopefs_tombstone_horizons (app, horizon) VALUES (?, ?)
                ON CONFLICT (app) DO UPDATE SET horizon = max(horizon, excluded.horizon)`,
} as const;

export class SqliteTombstones implements TombstonePurger {
  private readonly db: Database.Database;

  constructor(private readonly file: string) {
    try {
      this.db = openPrivateSqlite(file, { label: 'sqlite store tombstones', synchronous: 'FULL' }, (path, timeout) => new Database(path, { timeout }));
    } catch (err) {
      throw this.failure('open', err);
    }
  }

  async noteCursor(app: string, instance: string, cursor: number, now = Date.now()): Promise<void> {
    checkName('app', app);
    checkName('instance', instance);
    checkRevision('cursor', cursor);
    this.guard('note cursor', () => undefined); // a closed store fails here, before queueing
    try {
      await noteCursorBatched(this.file, this.db, SQL.noteCursor, { app, instance, cursor, now });
    } catch (err) {
      throw this.failure('note cursor', err);
    }
  }

  async purgeTombstones(app: string, olderThanMs: number, now = Date.now()): Promise<PurgeResult> {
    checkName('app', app);
    checkRevision('olderThanMs', olderThanMs);
    return this.guard('purge tombstones', () =>
      this.db.transaction(() => {
        const cursors = this.db.prepare(SQL.recentCursors).pluck().all(app, now - olderThanMs) as number[];
        const bound = purgeBound(cursors);
        if (bound === null) return { purged: 0, horizon: this.horizon(app) };
        const purged = this.db.prepare(SQL.purge).pluck().all(app, bound, now - olderThanMs) as number[];
        if (purged.length > 0) this.db.prepare(SQL.saveHorizon).run(app, purged.reduce((a, b) => Math.max(a, b)));
        return { purged: purged.length, horizon: this.horizon(app) };
      }).immediate(),
    );
  }

  async tombstoneHorizon(app: string): Promise<number> {
    checkName('app', app);
    return this.guard('tombstone horizon', () => this.horizon(app));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private horizon(app: string): number {
    return (this.db.prepare(SQL.horizon).pluck().get(app) as number | undefined) ?? 0;
  }

  private guard<T>(operation: string, work: () => T): T {
    if (!this.db.open) throw new ScopeFsError('EIO', `sqlite store ${this.file} tombstones are closed (${operation})`);
    try {
      return work();
    } catch (err) {
      throw this.failure(operation, err);
    }
  }

  private failure(operation: string, err: unknown): ScopeFsError {
    if (isScopeFsError(err)) return err as ScopeFsError;
    return new ScopeFsError('EIO', `sqlite store ${this.file}: ${operation} failed: ${errorMessage(err)}`, { cause: err });
  }
}
