/**
 * This instance's part in purging the store's tombstones (see
 * persistence/history/tombstones.ts): it reports the cursor it has applied,
 * so a purge never removes a delete it has not seen, and now and then it
 * purges the tombstones every instance seen recently is past.
 *
 * An instance away for longer than the tombstone age is no longer counted,
 * so a delete purged meanwhile may not reach it and its copy can stay. That
 * errs on the side of keeping data; the store's tombstone horizon records
 * what was purged, for a full reconcile that could apply them.
 *
 * Bookkeeping is throttled (a full pass, or once a minute), so a live
 * instance adds a store call a minute, not one per pass. Its failures never
 * fail a pass: a store that refuses a purge (a Supabase key without the
 * service role) or a store without purging only keeps its tombstones.
 */
import type { TombstonePurger } from '../../persistence/history/tombstones.js';

export interface TombstoneKeeperOptions {
  /** The purger of the current store connection; null when the store has none. */
  purger: () => TombstonePurger | null;
  app: string;
  instanceId: string;
  now: () => number;
  /** How often a live instance reports its cursor. Default one minute. */
  noteEveryMs?: number;
  /** How often it purges. Default one hour. */
  purgeEveryMs?: number;
  /** Tombstones younger than this, and instances not seen within it, are left alone. Default 7 days. */
  tombstoneAgeMs?: number;
}

const MINUTE = 60_000;

export class TombstoneKeeper {
  private lastNotedAt = -Infinity;
  private lastPurgedAt: number;
  private reported = false;

  constructor(private readonly options: TombstoneKeeperOptions) {
    // The first purge waits a full interval: a starting instance has nothing to hurry.
    this.lastPurgedAt = options.now();
  }

  /** Whether this pass reports its cursor when it is done. */
  due(full: boolean): boolean {
    return full || this.options.now() - this.lastNotedAt >= (this.options.noteEveryMs ?? MINUTE);
  }

  /** After a pass applied everything up to `cursor`: report it, and purge when that is due. */
  async afterPass(cursor: number): Promise<void> {
    const purger = this.options.purger();
    if (!purger) return;
    const { app, instanceId } = this.options;
    const now = this.options.now();
    this.lastNotedAt = now; // a failure waits for the next interval too
    // A first report at cursor 0 guards nothing: the app had no rows when this instance pulled, so
    // no tombstone it could miss exists, and one made later stays too young to purge far longer
    // than the interval to the next report. Skipped, it costs a fresh scope's start no synced write.
    const first = !this.reported;
    this.reported = true;
    if (first && cursor === 0) return;
    try {
      await purger.noteCursor(app, instanceId, cursor, now);
      if (now - this.lastPurgedAt < (this.options.purgeEveryMs ?? 60 * MINUTE)) return;
      this.lastPurgedAt = now;
      await purger.purgeTombstones(app, this.options.tombstoneAgeMs ?? 7 * 24 * 60 * MINUTE, now);
    } catch {
      // Kept for the next bookkeeping pass; tombstones only wait longer.
    }
  }
}
