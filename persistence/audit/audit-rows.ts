/** An audit entry as a SQL row and back (SQLite keeps paths as JSON text, PostgreSQL as text[]). */
import type { AuditEntry } from '../../src/audit/types.js';

export interface AuditRow {
  id: string;
  at: number | string;
  actor: string;
  operation: string;
  paths: string | string[];
  revision: number | string | null;
  result: string;
  code: string | null;
  message: string | null;
  source: string | null;
  instance: string | null;
}

export function entryOfRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    id: row.id,
    at: Number(row.at),
    actor: row.actor,
    operation: row.operation,
    paths: typeof row.paths === 'string' ? (JSON.parse(row.paths) as string[]) : row.paths,
    result: row.result as AuditEntry['result'],
  };
  if (row.revision !== null) entry.revision = Number(row.revision);
  if (row.code !== null) entry.code = row.code;
  if (row.message !== null) entry.message = row.message;
  if (row.source !== null) entry.source = row.source;
  if (row.instance !== null) entry.instance = row.instance;
  return entry;
}

/** The values of one entry, in the column order of the INSERTs. */
export function rowValues(scope: string, e: AuditEntry, paths: string | string[]): unknown[] {
  return [scope, e.id, e.at, e.actor, e.operation, paths, e.revision ?? null, e.result, e.code ?? null, e.message ?? null, e.source ?? null, e.instance ?? null];
}

/** A LIKE pattern matching every path under `path` (its `%`, `_` and `\` escaped). */
export function underPattern(path: string): string {
  return `${path.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
}
