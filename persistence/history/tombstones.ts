/**
 * Tombstone purging for a store's files table. Deletes are tombstones so
 * that every instance learns of them through the feed; once every instance
 * seen recently has a cursor past a tombstone, the tombstone can go.
 *
 * - Instances report the cursor they have applied: `noteCursor`.
 * - `purgeTombstones(app, olderThanMs)` removes tombstones older than
 *   `olderThanMs` whose revision is at or below the minimum cursor of the
 *   instances seen within `olderThanMs`. An instance not seen for longer
 *   counts as gone. With no instance seen recently, nothing is purged.
 * - The highest purged revision is the app's horizon: an instance whose
 *   cursor is below it (it was away while tombstones it never saw were
 *   purged) must do a full reconcile instead of catching up by cursor.
 */
export interface PurgeResult {
  /** Tombstones removed. */
  purged: number;
  /** The app's horizon after the purge (0: never purged). */
  horizon: number;
}

export interface TombstonePurger {
  /** Records that `instance` has applied every change of `app` up to `cursor` (never moves back). */
  noteCursor(app: string, instance: string, cursor: number, now?: number): Promise<void>;
  purgeTombstones(app: string, olderThanMs: number, now?: number): Promise<PurgeResult>;
  /** Cursors below this missed purged tombstones: reconcile fully. */
  tombstoneHorizon(app: string): Promise<number>;
  close(): Promise<void>;
}

/** What a purge may remove: the rule shared by every backend. */
export function purgeBound(cursorsSeenRecently: readonly number[]): number | null {
  return cursorsSeenRecently.length === 0 ? null : Math.min(...cursorsSeenRecently);
}
