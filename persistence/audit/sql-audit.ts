/**
 * The audit log in PostgreSQL or Supabase (migration 006's table): each
 * operation is one call of a function of migration 010, through the store's
 * pool or its RPC (persistence/sql/store-function-call.ts), so every instance
 * of the app ships to and reads one log, whichever way it reaches the store.
 */
import { checkAuditQuery, checkRetention } from '../../src/audit/audit-query.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRetention } from '../../src/audit/types.js';
import { ScopeFsError } from '../../src/errors.js';
import type { FunctionCall } from '../sql/store-function-call.js';
import { entryOfRow, underPattern, type AuditRow } from './audit-rows.js';

export const AUDIT_FUNCTIONS = {
  scopefs_audit_append: [['p_scope', 'text'], ['p_entries', 'jsonb']],
  scopefs_audit_query: [['p_scope', 'text'], ['p_actor', 'text'], ['p_since', 'bigint'], ['p_path', 'text'], ['p_under', 'text'], ['p_limit', 'integer']],
  scopefs_audit_prune: [['p_scope', 'text'], ['p_keep', 'integer'], ['p_oldest', 'bigint']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type AuditFunction = keyof typeof AUDIT_FUNCTIONS;

/** `SELECT public.fn(p_a => $1::text, …) AS result`, for node-postgres. */
export function auditCallSql(fn: AuditFunction): string {
  const args = AUDIT_FUNCTIONS[fn].map(([name, type], i) => `${name} => $${i + 1}::${type}`);
  return `SELECT public.${fn}(${args.join(', ')}) AS result`;
}

export function auditCallValues(fn: AuditFunction, args: Record<string, unknown>): unknown[] {
  return AUDIT_FUNCTIONS[fn].map(([name, type]) => {
    const value = args[name] ?? null;
    return type === 'jsonb' && value !== null ? JSON.stringify(value) : value;
  });
}

/** Entries per call: a bigger shipment goes in parts, in order (each part idempotent). */
const BATCH = 500;

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly call: FunctionCall<AuditFunction>,
    private readonly scope: string,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += BATCH) {
      const added = await this.call('scopefs_audit_append', { p_scope: this.scope, p_entries: entries.slice(i, i + BATCH) });
      if (typeof added !== 'number') throw malformed(added);
    }
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = checkAuditQuery(query);
    const path = q.path === '/' ? undefined : q.path;
    const rows = await this.call('scopefs_audit_query', {
      p_scope: this.scope,
      p_actor: q.actor ?? null,
      p_since: q.since ?? null,
      p_path: path ?? null,
      p_under: path === undefined ? null : underPattern(path),
      p_limit: q.limit,
    });
    if (!Array.isArray(rows)) throw malformed(rows);
    return (rows as AuditRow[]).map(entryOfRow);
  }

  async prune(retention: AuditRetention): Promise<number> {
    checkRetention(retention);
    if (retention.maxEntries === undefined && retention.maxAgeMs === undefined) return 0;
    const removed = await this.call('scopefs_audit_prune', {
      p_scope: this.scope,
      p_keep: retention.maxEntries ?? null,
      p_oldest: retention.maxAgeMs === undefined ? null : Date.now() - retention.maxAgeMs,
    });
    return Number(removed ?? 0);
  }
}

function malformed(raw: unknown): ScopeFsError {
  return new ScopeFsError(
    'EIO',
    `the store answered an audit call with ${JSON.stringify(raw)?.slice(0, 200)}: is migration 10 (010_audit_functions.sql) applied? run \`scopefs migrate\``,
  );
}
