/** Tombstone purging (see tombstones.ts) for a memory store, kept beside it for the store object's lifetime. */
import type { MemoryStore } from '../stores/memory-store.js';
import { checkName, checkRevision } from '../stores/store-input.js';
import { purgeBound, type PurgeResult, type TombstonePurger } from './tombstones.js';

export class MemoryTombstones implements TombstonePurger {
  private readonly cursors = new Map<string, Map<string, { cursor: number; seenAt: number }>>();
  private readonly horizons = new Map<string, number>();

  constructor(private readonly store: MemoryStore) {}

  async noteCursor(app: string, instance: string, cursor: number, now = Date.now()): Promise<void> {
    checkName('app', app);
    checkName('instance', instance);
    checkRevision('cursor', cursor);
    let byInstance = this.cursors.get(app);
    if (!byInstance) this.cursors.set(app, (byInstance = new Map()));
    const previous = byInstance.get(instance)?.cursor ?? 0;
    byInstance.set(instance, { cursor: Math.max(previous, cursor), seenAt: now });
  }

  async purgeTombstones(app: string, olderThanMs: number, now = Date.now()): Promise<PurgeResult> {
    checkName('app', app);
    checkRevision('olderThanMs', olderThanMs);
    const recent = [...(this.cursors.get(app)?.values() ?? [])].filter((seen) => seen.seenAt >= now - olderThanMs);
    const bound = purgeBound(recent.map((seen) => seen.cursor));
    if (bound === null) return { purged: 0, horizon: this.horizons.get(app) ?? 0 };
    const purged = this.store.dropTombstones(app, bound, now - olderThanMs);
    const horizon = purged.reduce((a, b) => Math.max(a, b), this.horizons.get(app) ?? 0);
    this.horizons.set(app, horizon);
    return { purged: purged.length, horizon };
  }

  async tombstoneHorizon(app: string): Promise<number> {
    checkName('app', app);
    return this.horizons.get(app) ?? 0;
  }

  async close(): Promise<void> {}
}
