/**
 * What the scopefs SQL functions (persistence/sql/migrations) mean in TypeScript,
 * shared by the postgres store (node-postgres) and the supabase store
 * (PostgREST RPC): the function signatures, the JSON wire format (content as
 * base64 strings), and SQLSTATE codes mapped to ScopeFsError codes.
 */
import { ScopeFsError, type ErrorCode } from '../../src/errors.js';
import type { CheckedChange } from '../stores/store-input.js';
import type { LeaseState, PushOutcome, SincePage, StoreRow } from '../stores/types.js';

/** The schema version this build needs: the highest file in persistence/sql/migrations. */
export const SCHEMA_VERSION = 11;

/** The NOTIFY channel scopefs_push sends `{"app": ..., "head": ...}` on. */
export const NOTIFY_CHANNEL = 'scopefs';

/** Parameters (name, SQL type) of each RPC function, in declaration order. */
export const SQL_FUNCTIONS = {
  scopefs_schema_version: [],
  scopefs_head: [['p_app', 'text']],
  scopefs_get: [['p_app', 'text'], ['p_owner', 'text'], ['p_path', 'text']],
  scopefs_since: [['p_app', 'text'], ['p_owners', 'text[]'], ['p_cursor', 'bigint'], ['p_limit', 'integer']],
  scopefs_push: [['p_app', 'text'], ['p_instance', 'text'], ['p_changes', 'jsonb']],
  scopefs_history: [['p_app', 'text'], ['p_owner', 'text'], ['p_path', 'text'], ['p_limit', 'integer']],
  scopefs_acquire_lease: [['p_name', 'text'], ['p_holder', 'text'], ['p_ttl_ms', 'bigint']],
  scopefs_renew_lease: [['p_name', 'text'], ['p_holder', 'text'], ['p_token', 'bigint'], ['p_ttl_ms', 'bigint']],
  scopefs_release_lease: [['p_name', 'text'], ['p_holder', 'text'], ['p_token', 'bigint']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type SqlFunctionName = keyof typeof SQL_FUNCTIONS;
export type SqlArgValue = string | number | readonly string[] | readonly ChangeJson[];
export type SqlArgs = Record<string, SqlArgValue>;

/** A store row as the SQL functions return it: content in standard base64, snake_case times. */
export type RowJson = Omit<StoreRow, 'content' | 'updatedAt' | 'updatedBy'> & {
  content: string | null;
  updated_at: number;
  updated_by: string;
};

/** One element of scopefs_push's p_changes. */
export interface ChangeJson {
  owner: string;
  path: string;
  base_revision: number;
  content: string | null;
  hash: string | null;
  batch?: string;
}

export function changeToJson(change: CheckedChange): ChangeJson {
  return {
    owner: change.owner,
    path: change.path,
    base_revision: change.baseRevision,
    content: change.content === null ? null : Buffer.from(change.content).toString('base64'),
    hash: change.hash,
    ...(change.batch === undefined ? {} : { batch: change.batch }),
  };
}

export function rowFromJson(json: unknown): StoreRow {
  const row = asObject(json, 'row') as unknown as RowJson;
  return {
    app: row.app,
    owner: row.owner,
    path: row.path,
    revision: toRevision(row.revision),
    hash: row.hash,
    size: Number(row.size),
    deleted: row.deleted,
    content: row.content === null ? null : Buffer.from(row.content, 'base64'),
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
    ...(typeof row.batch === 'string' ? { batch: row.batch } : {}),
  };
}

export function rowOrNullFromJson(json: unknown): StoreRow | null {
  return json === null || json === undefined ? null : rowFromJson(json);
}

export function pageFromJson(json: unknown): SincePage {
  const page = asObject(json, 'since page');
  return {
    rows: asArray(page.rows, 'since rows').map(rowFromJson),
    cursor: toRevision(page.cursor),
    more: page.more === true,
  };
}

export function outcomesFromJson(json: unknown): PushOutcome[] {
  return asArray(json, 'push outcomes').map((item): PushOutcome => {
    const outcome = asObject(item, 'push outcome');
    const owner = String(outcome.owner);
    const path = String(outcome.path);
    if (outcome.status === 'ok') return { owner, path, status: 'ok', revision: toRevision(outcome.revision) };
    return { owner, path, status: 'conflict', current: rowOrNullFromJson(outcome.current) };
  });
}

export function leaseFromJson(json: unknown): LeaseState {
  const lease = asObject(json, 'lease');
  return {
    acquired: lease.acquired === true,
    name: String(lease.name),
    holder: typeof lease.holder === 'string' ? lease.holder : null,
    token: lease.token === null || lease.token === undefined ? 0 : toRevision(lease.token),
    expiresAt: typeof lease.expires_at === 'number' ? lease.expires_at : null,
  };
}

/** Revisions are bigint in SQL: node-postgres returns them as strings, PostgREST as numbers. */
export function toRevision(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidReply('revision', value);
  return n;
}

/** Refuses a database whose schema is older or newer than this build. */
export function checkSchemaVersion(found: number, storeUrl: string): void {
  if (found > SCHEMA_VERSION) {
    throw new ScopeFsError(
      'ESCHEMA',
      `store ${storeUrl} has schema version ${found}, newer than the ${SCHEMA_VERSION} this scopefs build knows; upgrade scopefs`,
    );
  }
  if (found < SCHEMA_VERSION) {
    throw new ScopeFsError(
      'ESCHEMA',
      `store ${storeUrl} has schema version ${found}, this scopefs build needs ${SCHEMA_VERSION}; run \`scopefs migrate\``,
    );
  }
}

// SQLSTATE classes and codes the stores tell apart.
const SCHEMA_MISSING = new Set(['3F000', '42P01', '42883', 'PGRST202']);
const PERMISSION_DENIED = '42501';
const INVALID_PARAMETER = '22023';

/**
 * The ScopeFsError for a failed SQL call, from its SQLSTATE (node-postgres
 * `code`, or PostgREST's `code` field). Anything unknown is EIO.
 */
export function sqlError(code: string | undefined, message: string, storeUrl: string, cause?: unknown): ScopeFsError {
  const errorCode: ErrorCode =
    code === INVALID_PARAMETER
      ? 'EINVAL'
      : code === PERMISSION_DENIED
        ? 'EACCES'
        : code !== undefined && SCHEMA_MISSING.has(code)
          ? 'ESCHEMA'
          : 'EIO';
  const detail =
    errorCode === 'ESCHEMA'
      ? `the scopefs schema is not installed (${message}); run \`scopefs migrate\``
      : code === PERMISSION_DENIED
        ? `permission denied: ${message}`
        : message;
  return new ScopeFsError(errorCode, `store ${storeUrl}: ${detail}`, { cause });
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidReply(what, value);
  return value as Record<string, unknown>;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw invalidReply(what, value);
  return value;
}

function invalidReply(what: string, value: unknown): ScopeFsError {
  const shown = JSON.stringify(value) ?? String(value);
  return new ScopeFsError('EIO', `the store returned an invalid ${what}: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`);
}
