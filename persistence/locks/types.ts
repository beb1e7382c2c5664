/**
 * Locks kept in a sync store, so every instance of an app (every process,
 * every machine) sees one set of locks: the store-side half of
 * src/coordination/locks.ts. A lock on a target excludes every live lock
 * whose target covers it or is covered by it; each lock taken gets a fencing
 * number higher than every earlier one of the app (a per-app counter that
 * only grows), and expiry is decided by the store's clock.
 */
import type { LockRecord } from '../../src/coordination/lock-rules.js';

export type { LockRecord };

export interface StoreLockRequest {
  /** A path or prefix (normalised like LockTable's: `/docs`, `/docs/` alike). */
  target: string;
  /** Who holds it, for other callers' ELOCKED messages. */
  owner: string;
  ttlMs: number;
}

/** The lock taken, or the live lock that stands in the way. */
export type StoreLockAnswer = { acquired: true; lock: LockRecord } | { acquired: false; holder: LockRecord };

export interface StoreLocks {
  /** One attempt, atomic in the store: refused (with the holder) while an overlapping live lock exists. */
  acquire(app: string, request: StoreLockRequest): Promise<StoreLockAnswer>;
  /** Extends a live lock by `ttlMs` from the store's now; null when it expired or was released. */
  renew(app: string, token: string, ttlMs: number): Promise<LockRecord | null>;
  /** Deletes the lock; true when it was still live. */
  release(app: string, token: string): Promise<boolean>;
  /** The live locks of the app, by target then fence. */
  live(app: string): Promise<LockRecord[]>;
  /** The lock when it is live by the store's clock, else null: what a write presenting `token` must ask. */
  check(app: string, token: string): Promise<LockRecord | null>;
  /**
   * Optional: calls `listener` after a commit that may have changed the
   * app's locks, with `error` while it cannot tell and `reconnected` once it
   * can again. Returns the function that stops it. Without it, a mirror of
   * the locks must poll live().
   */
  watchChanges?(app: string, listener: (change: { error?: string; reconnected?: boolean }) => void): () => void;
  /** Releases this handle's connection (never the store's own). */
  close(): Promise<void>;
}
