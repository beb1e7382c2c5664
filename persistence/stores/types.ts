/**
 * The sync store contract: a shared database with revisions that several
 * instances of a scope sync through. Implemented by memory, sqlite, postgres
 * and supabase stores; all must pass test/persistence/store-contract.ts.
 *
 * - Identity is (app, owner, path). A shared file has owner SHARED_OWNER; a
 *   private file has the user's id as owner.
 * - Every committed change gets the next revision of its app: revisions are
 *   per app, strictly increasing, and a change with revision R is never
 *   committed after a reader has seen a cursor >= R (gap-free feed).
 * - Deletes are tombstones (deleted = true, content = null).
 * - Hints from watch() say "something changed"; catch-up is always by cursor.
 * - Leases are named, time-limited and fenced: whoever takes a free or
 *   expired lease gets a token higher than any before it, so whatever the
 *   lease guards can refuse a holder that lost it while paused.
 */
export const SHARED_OWNER = '_shared';

export interface StoreRow {
  app: string;
  owner: string;
  path: string;
  revision: number;
  /** sha256 hex of the content; null for tombstones. */
  hash: string | null;
  size: number;
  deleted: boolean;
  /** Null for tombstones. */
  content: Uint8Array | null;
  /** Milliseconds since the epoch. */
  updatedAt: number;
  /** Instance id of the writer. */
  updatedBy: string;
  /**
   * The batch the row was pushed in (PushChange.batch), present only then:
   * a reader applies the rows of one batch together, so it never shows part of one.
   */
  batch?: string;
}

export interface PushChange {
  owner: string;
  path: string;
  /** The revision this change is based on; 0 means "I believe no row exists". */
  baseRevision: number;
  /** Null deletes (writes a tombstone). */
  content: Uint8Array | null;
  hash: string | null;
  /**
   * Changes of one push with the same batch id commit all or none: when one
   * of them loses its compare-and-swap, every one of them is refused (each
   * outcome a conflict carrying its current row). Their rows carry the id.
   */
  batch?: string;
}

export type PushOutcome =
  | { owner: string; path: string; status: 'ok'; revision: number }
  | { owner: string; path: string; status: 'conflict'; current: StoreRow | null };

export interface SincePage {
  rows: StoreRow[];
  /** Where to continue from. When `more` is false this is the head as of the read. */
  cursor: number;
  more: boolean;
}

export interface StoreHint {
  /** The head revision, when the hint carries it. */
  head?: number;
  /** True after a reconnect: the listener must catch up by cursor. */
  reconnected?: boolean;
  /**
   * The hint channel failed (a lost LISTEN connection, a poll the database
   * refused): until a `reconnected` hint, silence proves nothing, so the
   * listener must treat the store as unavailable.
   */
  error?: string;
}

/** A lease as the store reports it after a lease call. */
export interface LeaseState {
  /** Whether the call got (or kept) the lease. */
  acquired: boolean;
  name: string;
  /** Who holds it now (null when free). */
  holder: string | null;
  /** Fencing token: increases every time the lease changes hands, never goes back (0: never taken). */
  token: number;
  /** Milliseconds since the epoch by the store's clock; null when never taken. */
  expiresAt: number | null;
}

/** Named leases with fencing tokens; every SyncStore has them. Expiry is by the store's clock. */
export interface StoreLeases {
  /**
   * Takes the lease `name` for `ttlMs` when it is free or expired (the token
   * increases), or extends it when `holder` holds it already (same token).
   * `acquired: false` reports the current holder.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseState>;
  /** Extends an unexpired lease this holder holds with this token; a stale token gets `acquired: false`. */
  renewLease(name: string, holder: string, token: number, ttlMs: number): Promise<LeaseState>;
  /** Gives the lease up (free at once); false when this holder and token no longer hold it. */
  releaseLease(name: string, holder: string, token: number): Promise<boolean>;
}

export interface SyncStore extends StoreLeases {
  /** e.g. `sqlite:/srv/x.db`, `memory:test`. Never contains secrets. */
  readonly url: string;
  /** Connects and checks or applies the schema. Idempotent. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** The newest revision of the app (0 when empty). */
  head(app: string): Promise<number>;
  /** Rows of the given owners with revision > cursor, ascending by revision, at most `limit`. */
  since(app: string, owners: readonly string[], cursor: number, limit?: number): Promise<SincePage>;
  /** One row with content, or null. */
  get(app: string, owner: string, path: string): Promise<StoreRow | null>;
  /**
   * Compare-and-swap push of many changes in one transaction. Each change is
   * applied only if the current revision of its row equals its baseRevision
   * (0 = no row), and, for a change with a batch id, only if every change of
   * its batch is; otherwise its outcome carries the current row.
   */
  push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]>;
  /** Subscribes to change hints for an app. Returns an unsubscribe function. */
  watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>>;
  /** Counts queries issued (for the steady-state benchmark). */
  readonly queryCount?: number;
}
