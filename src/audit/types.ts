/**
 * The audit log's vocabulary: one entry per change a scope applied and per
 * request it refused, and the one interface every place that keeps them
 * implements (the local spool under `.scopefs/audit/`, the memory log, the
 * stores' tables).
 */

/** `ok`: the change was applied. `refused`: the request failed with `code` and changed nothing. */
export type AuditResult = 'ok' | 'refused';

export interface AuditEntry {
  /** Unique across instances and restarts (`<session>-<seq>`): storing an entry twice keeps one. */
  id: string;
  /** When it happened (ms since the epoch). */
  at: number;
  /**
   * Who: `owner`, `token:<name>`, `agent:<id>`, an app's own id, `disk` (an
   * outside edit under the root), `sync` (a change from another instance),
   * `local` (a library call that named no actor).
   */
  actor: string;
  /** `write`, `append`, `edit`, `delete`, `move`, `restore`, ... */
  operation: string;
  /** The path (a move: from, then to). */
  paths: string[];
  /** The revision the change produced (refused: absent). */
  revision?: number;
  result: AuditResult;
  /** The error code of a refusal (`EACCES`, `ESTALE`, `ELOCKED`, ...). */
  code?: string;
  /** The refusal's message. */
  message?: string;
  /** With `sync`: the instance the change came from. */
  source?: string;
  /** The instance that recorded the entry (when syncing). */
  instance?: string;
}

export interface AuditQuery {
  /** Entries naming this path, or a path under it when it is a directory prefix. */
  path?: string;
  actor?: string;
  /** Entries at or after this time (ms since the epoch). */
  since?: number;
  /** At most this many, newest first (default 100, at most 10,000). */
  limit?: number;
}

/** How much is kept: entries older than `maxAgeMs`, or beyond the newest `maxEntries`, go. */
export interface AuditRetention {
  maxAgeMs?: number;
  maxEntries?: number;
}

/** Where entries are kept. `append` is idempotent by entry id. */
export interface AuditLog {
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  query(query?: AuditQuery): Promise<AuditEntry[]>;
  /** Removes what `retention` does not keep; returns how many entries went. */
  prune(retention: AuditRetention): Promise<number>;
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 10_000;
/** Default retention: 30 days, and at most 1,000,000 entries. */
export const DEFAULT_AUDIT_RETENTION: Required<AuditRetention> = { maxAgeMs: 30 * 24 * 3600_000, maxEntries: 1_000_000 };
