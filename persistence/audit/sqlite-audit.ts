/**
 * The audit log in a SQLite database (schema 4, persistence/sql/sqlite-schema.ts):
 * the SQLite store's file, so every instance on the machine sees one log.
 */
import Database from 'better-sqlite3';
import { checkAuditQuery, checkRetention } from '../../src/audit/audit-query.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRetention } from '../../src/audit/types.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { entryOfRow, rowValues, underPattern, type AuditRow } from './audit-rows.js';

const INSERT = `INSERT OR IGNORE INTO scopefs_audit (scope, id, at, actor, operation, paths, revision, result, code, message, source, instance)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const QUERY = `SELECT * FROM scopefs_audit WHERE scope = @scope
  AND (@actor IS NULL OR actor = @actor)
  AND (@since IS NULL OR at >= @since)
  AND (@path IS NULL OR EXISTS (SELECT 1 FROM json_each(paths) WHERE value = @path OR value LIKE @under ESCAPE '\\'))
  ORDER BY rowid DESC LIMIT @limit`;
const PRUNE_COUNT = `DELETE FROM scopefs_audit WHERE scope = @scope AND rowid <= (
  SELECT rowid FROM scopefs_audit WHERE scope = @scope ORDER BY rowid DESC LIMIT 1 OFFSET @keep)`;
const PRUNE_AGE = 'DELETE FROM scopefs_audit WHERE scope = @scope AND at < @oldest';

export class SqliteAuditLog implements AuditLog {
  private readonly db: Database.Database;

  constructor(
    readonly file: string,
    private readonly scope: string,
  ) {
    this.db = openPrivateSqlite(file, { label: 'audit log' }, (path, timeout) => new Database(path, { timeout }));
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    const insert = this.db.prepare(INSERT);
    this.db.transaction(() => {
      for (const e of entries) insert.run(...rowValues(this.scope, e, JSON.stringify(e.paths)));
    })();
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = checkAuditQuery(query);
    const path = q.path === '/' ? undefined : q.path;
    const rows = this.db.prepare(QUERY).all({
      scope: this.scope,
      actor: q.actor ?? null,
      since: q.since ?? null,
      path: path ?? null,
      under: path === undefined ? null : underPattern(path),
      limit: q.limit,
    }) as AuditRow[];
    return rows.map(entryOfRow);
  }

  async prune(retention: AuditRetention): Promise<number> {
    checkRetention(retention);
    return this.db.transaction(() => {
      let removed = 0;
      if (retention.maxEntries !== undefined) removed += this.db.prepare(PRUNE_COUNT).run({ scope: this.scope, keep: retention.maxEntries }).changes;
      if (retention.maxAgeMs !== undefined) removed += this.db.prepare(PRUNE_AGE).run({ scope: this.scope, oldest: Date.now() - retention.maxAgeMs }).changes;
      return removed;
    })();
  }

  close(): void {
    this.db.close();
  }
}

