/**
 * The SyncStore operations both SQL stores share: each is one call of a
 * server-side function from persistence/sql/migrations, so the work (CAS, revision
 * allocation, paging, leases) is atomic on the server. Subclasses only say
 * how a function is called (node-postgres or Supabase RPC) and how hints
 * arrive.
 */
import { checkIdentity, checkLeaseArgs, checkName, checkPushArgs, checkRevision, checkSinceArgs } from '../stores/store-input.js';
import {
  changeToJson,
  checkSchemaVersion,
  leaseFromJson,
  outcomesFromJson,
  pageFromJson,
  rowFromJson,
  rowOrNullFromJson,
  toRevision,
  type SqlArgs,
  type SqlFunctionName,
} from './sql-store-mapping.js';
import type { LeaseState, PushChange, PushOutcome, SincePage, StoreHint, StoreRow, SyncStore } from '../stores/types.js';

/** Rows history() returns when the caller gives no limit. */
export const DEFAULT_HISTORY_LIMIT = 20;

export abstract class SqlFunctionStore implements SyncStore {
  abstract readonly url: string;
  private calls = 0;

  /** Statements (function calls) sent to the database so far. */
  get queryCount(): number {
    return this.calls;
  }

  abstract open(): Promise<void>;
  abstract close(): Promise<void>;
  abstract watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>>;

  /** Calls `public.<fn>` with named arguments and returns its (JSON-decoded) result. */
  protected abstract callFunction(fn: SqlFunctionName, args: SqlArgs): Promise<unknown>;

  async head(app: string): Promise<number> {
    checkName('app', app);
    return toRevision(await this.call('scopefs_head', { p_app: app }));
  }

  async since(app: string, owners: readonly string[], cursor: number, limit?: number): Promise<SincePage> {
    const pageLimit = checkSinceArgs(app, owners, cursor, limit);
    const page = await this.call('scopefs_since', { p_app: app, p_owners: owners, p_cursor: cursor, p_limit: pageLimit });
    return pageFromJson(page);
  }

  async get(app: string, owner: string, path: string): Promise<StoreRow | null> {
    checkIdentity(app, owner, path);
    return rowOrNullFromJson(await this.call('scopefs_get', { p_app: app, p_owner: owner, p_path: path }));
  }

  async push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]> {
    const checked = checkPushArgs(app, instanceId, changes);
    if (checked.length === 0) return [];
    const outcomes = await this.call('scopefs_push', {
      p_app: app,
      p_instance: instanceId,
      p_changes: checked.map(changeToJson),
    });
    return outcomesFromJson(outcomes);
  }

  /** The current row and earlier versions of a path, newest first (see the history_retention setting). */
  async history(app: string, owner: string, path: string, limit = DEFAULT_HISTORY_LIMIT): Promise<StoreRow[]> {
    checkIdentity(app, owner, path);
    checkRevision('history limit', limit);
    const rows = await this.call('scopefs_history', { p_app: app, p_owner: owner, p_path: path, p_limit: limit });
    return (rows as unknown[]).map(rowFromJson);
  }

  // Leases: see StoreLeases in ../stores/types.ts; expiry is by the database server's clock.
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    return leaseFromJson(await this.call('scopefs_acquire_lease', { p_name: name, p_holder: holder, p_ttl_ms: ttlMs }));
  }

  async renewLease(name: string, holder: string, token: number, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    checkRevision('lease token', token);
    const lease = await this.call('scopefs_renew_lease', { p_name: name, p_holder: holder, p_token: token, p_ttl_ms: ttlMs });
    return leaseFromJson(lease);
  }

  async releaseLease(name: string, holder: string, token: number): Promise<boolean> {
    checkLeaseArgs(name, holder, 1);
    checkRevision('lease token', token);
    return (await this.call('scopefs_release_lease', { p_name: name, p_holder: holder, p_token: token })) === true;
  }

  /** Throws ESCHEMA unless the database has exactly the schema this build needs. */
  protected async checkSchema(): Promise<void> {
    const version = await this.call('scopefs_schema_version', {});
    checkSchemaVersion(Number(version), this.url);
  }

  /** For statements a subclass sends outside callFunction (e.g. LISTEN). */
  protected countQuery(): void {
    this.calls++;
  }

  private call(fn: SqlFunctionName, args: SqlArgs): Promise<unknown> {
    this.calls++;
    return this.callFunction(fn, args);
  }
}
