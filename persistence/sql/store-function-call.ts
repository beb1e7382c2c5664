/**
 * How a side table (locks, records) calls its `public.scopefs_*` functions
 * on a store: through a PostgresStore's pool (queryRows) or a SupabaseStore's
 * RPC (callRpc), told apart by shape so neither driver is imported here.
 * Null for a store that is neither.
 */
import type { SyncStore } from '../stores/types.js';

interface PostgresLike { queryRows(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> }
interface SupabaseLike { callRpc(fn: string, args: Record<string, unknown>): Promise<unknown> }

export type FunctionCall<F extends string> = (fn: F, args: Record<string, unknown>) => Promise<unknown>;

export function storeFunctionCall<F extends string>(
  store: SyncStore,
  sql: (fn: F) => string,
  values: (fn: F, args: Record<string, unknown>) => unknown[],
): FunctionCall<F> | null {
  const candidate = store as Partial<PostgresLike & SupabaseLike>;
  if (typeof candidate.queryRows === 'function') {
    const postgres = store as unknown as PostgresLike;
    return async (fn, args) => (await postgres.queryRows(sql(fn), values(fn, args)))[0]?.result ?? null;
  }
  if (typeof candidate.callRpc === 'function') {
    const supabase = store as unknown as SupabaseLike;
    return (fn, args) => supabase.callRpc(fn, args);
  }
  return null;
}
