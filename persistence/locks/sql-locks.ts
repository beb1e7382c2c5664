/**
 * Store locks in PostgreSQL or Supabase: each operation is one call of a
 * server-side function of persistence/sql/migrations/007_locks.sql, so it is
 * atomic on the server (the app's fence row serialises acquires) and expiry
 * is by the server's clock. The caller says how a function is called
 * (node-postgres or Supabase RPC), as for the history (sql-history.ts).
 */
import type { LockRecord } from '../../src/coordination/lock-rules.js';
import { ScopeFsError } from '../../src/errors.js';
import { checkApp, checkRequest, checkToken, checkTtl, newLockToken } from './lock-input.js';
import type { StoreLockAnswer, StoreLockRequest, StoreLocks } from './types.js';

/** Parameters (name, SQL type) of the lock functions, in declaration order. */
export const LOCK_FUNCTIONS = {
  scopefs_lock_acquire: [['p_app', 'text'], ['p_target', 'text'], ['p_owner', 'text'], ['p_ttl_ms', 'bigint'], ['p_token', 'text']],
  scopefs_lock_renew: [['p_app', 'text'], ['p_token', 'text'], ['p_ttl_ms', 'bigint']],
  scopefs_lock_release: [['p_app', 'text'], ['p_token', 'text']],
  scopefs_lock_live: [['p_app', 'text']],
  scopefs_lock_check: [['p_app', 'text'], ['p_token', 'text']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type LockFunction = keyof typeof LOCK_FUNCTIONS;

/** Calls `public.<fn>` with named arguments and returns its decoded result. */
export type LockCall = (fn: LockFunction, args: Record<string, unknown>) => Promise<unknown>;

/** `SELECT public.fn(p_a => $1::text, …) AS result`, for node-postgres. */
export function lockCallSql(fn: LockFunction): string {
  const args = LOCK_FUNCTIONS[fn].map(([name, type], i) => `${name} => $${i + 1}::${type}`);
  return `SELECT public.${fn}(${args.join(', ')}) AS result`;
}

export function lockCallValues(fn: LockFunction, args: Record<string, unknown>): unknown[] {
  return LOCK_FUNCTIONS[fn].map(([name]) => args[name] ?? null);
}

export class SqlLocks implements StoreLocks {
  /** Set when the store pushes lock changes (PostgreSQL's NOTIFY); without it mirrors poll. */
  readonly watchChanges?: StoreLocks['watchChanges'];

  constructor(
    private readonly call: LockCall,
    watchChanges?: StoreLocks['watchChanges'],
  ) {
    if (watchChanges) this.watchChanges = watchChanges;
  }

  async acquire(app: string, request: StoreLockRequest): Promise<StoreLockAnswer> {
    const { target, owner, ttlMs } = checkRequest(request);
    const raw = (await this.call('scopefs_lock_acquire', {
      p_app: checkApp(app), p_target: target, p_owner: owner, p_ttl_ms: ttlMs, p_token: newLockToken(),
    })) as { acquired?: unknown; lock?: unknown; holder?: unknown } | null;
    if (raw?.acquired === true) return { acquired: true, lock: lockFrom(raw.lock) };
    if (raw?.acquired === false) return { acquired: false, holder: lockFrom(raw.holder) };
    throw malformed(raw);
  }

  async renew(app: string, token: string, ttlMs: number): Promise<LockRecord | null> {
    const raw = await this.call('scopefs_lock_renew', { p_app: checkApp(app), p_token: checkToken(token), p_ttl_ms: checkTtl(ttlMs) });
    return raw === null || raw === undefined ? null : lockFrom(raw);
  }

  async release(app: string, token: string): Promise<boolean> {
    return (await this.call('scopefs_lock_release', { p_app: checkApp(app), p_token: checkToken(token) })) === true;
  }

  async live(app: string): Promise<LockRecord[]> {
    const raw = await this.call('scopefs_lock_live', { p_app: checkApp(app) });
    if (!Array.isArray(raw)) throw malformed(raw);
    return raw.map(lockFrom);
  }

  async check(app: string, token: string): Promise<LockRecord | null> {
    const raw = await this.call('scopefs_lock_check', { p_app: checkApp(app), p_token: checkToken(token) });
    return raw === null || raw === undefined ? null : lockFrom(raw);
  }

  /** The store's pool or client stays open: it is the store's. */
  async close(): Promise<void> {}
}

function lockFrom(raw: unknown): LockRecord {
  const row = raw as { token?: unknown; fence?: unknown; target?: unknown; owner?: unknown; expires_at?: unknown } | null;
  if (!row || typeof row.token !== 'string' || typeof row.target !== 'string' || typeof row.owner !== 'string') throw malformed(raw);
  return { token: row.token, fence: Number(row.fence), target: row.target, owner: row.owner, expiresAt: Number(row.expires_at) };
}

function malformed(raw: unknown): ScopeFsError {
  return new ScopeFsError(
    'EIO',
    `the store answered a lock call with ${JSON.stringify(raw)?.slice(0, 200)}: is migration 7 (007_locks.sql) applied? run \`scopefs migrate\``,
  );
}
