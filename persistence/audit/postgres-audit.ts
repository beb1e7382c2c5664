/**
 * The audit log in PostgreSQL (migration 006_audit.sql), through the store's
 * pool (PostgresStore.queryRows), so every instance of the app sees one log.
 */
import { checkAuditQuery, checkRetention } from '../../src/audit/audit-query.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRetention } from '../../src/audit/types.js';
import { entryOfRow, rowValues, underPattern, type AuditRow } from './audit-rows.js';

/** PostgresStore's statement runner (told apart by shape, so `pg` is not imported here). */
export type QueryRows = (text: string, values: readonly unknown[]) => Promise<Record<string, unknown>[]>;

const INSERT_ONE = `INSERT INTO scopefs.audit (scope, id, at, actor, operation, paths, revision, result, code, message, source, instance)
  VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12) ON CONFLICT (scope, id) DO NOTHING`;
const QUERY = `SELECT * FROM scopefs.audit WHERE scope = $1
  AND ($2::text IS NULL OR actor = $2)
  AND ($3::bigint IS NULL OR at >= $3)
  AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM unnest(paths) AS p WHERE p = $4 OR p LIKE $5))
  ORDER BY seq DESC LIMIT $6`;
const PRUNE_COUNT = `WITH doomed AS (
  DELETE FROM scopefs.audit WHERE scope = $1 AND seq <= (SELECT seq FROM scopefs.audit WHERE scope = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)
  RETURNING 1) SELECT count(*)::int AS n FROM doomed`;
const PRUNE_AGE = 'WITH doomed AS (DELETE FROM scopefs.audit WHERE scope = $1 AND at < $2 RETURNING 1) SELECT count(*)::int AS n FROM doomed';

export class PostgresAuditLog implements AuditLog {
  constructor(
    private readonly queryRows: QueryRows,
    private readonly scope: string,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    // One statement per entry, in order (seq keeps append order); each is idempotent.
    for (const e of entries) await this.queryRows(INSERT_ONE, rowValues(this.scope, e, e.paths));
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = checkAuditQuery(query);
    const path = q.path === '/' ? undefined : q.path;
    const rows = await this.queryRows(QUERY, [this.scope, q.actor ?? null, q.since ?? null, path ?? null, path === undefined ? null : underPattern(path), q.limit]);
    return (rows as unknown as AuditRow[]).map(entryOfRow);
  }

  async prune(retention: AuditRetention): Promise<number> {
    checkRetention(retention);
    let removed = 0;
    if (retention.maxEntries !== undefined) removed += Number((await this.queryRows(PRUNE_COUNT, [this.scope, retention.maxEntries]))[0]?.n ?? 0);
    if (retention.maxAgeMs !== undefined) removed += Number((await this.queryRows(PRUNE_AGE, [this.scope, Date.now() - retention.maxAgeMs]))[0]?.n ?? 0);
    return removed;
  }
}
