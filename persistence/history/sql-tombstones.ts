/** Tombstone purging (see tombstones.ts) for the PostgreSQL and Supabase stores, through migration 5's functions. */
import { checkName, checkRevision } from '../stores/store-input.js';
import type { HistoryCall } from './sql-history.js';
import type { PurgeResult, TombstonePurger } from './tombstones.js';

export class SqlTombstones implements TombstonePurger {
  constructor(private readonly call: HistoryCall) {}

  async noteCursor(app: string, instance: string, cursor: number, now = Date.now()): Promise<void> {
    checkName('app', app);
    checkName('instance', instance);
    checkRevision('cursor', cursor);
    await this.call('scopefs_note_cursor', { p_app: app, p_instance: instance, p_cursor: cursor, p_now: now });
  }

  async purgeTombstones(app: string, olderThanMs: number, now = Date.now()): Promise<PurgeResult> {
    checkName('app', app);
    checkRevision('olderThanMs', olderThanMs);
    const raw = (await this.call('scopefs_purge_tombstones', { p_app: app, p_older_than_ms: olderThanMs, p_now: now })) as PurgeResult;
    return { purged: Number(raw.purged), horizon: Number(raw.horizon) };
  }

  async tombstoneHorizon(app: string): Promise<number> {
    checkName('app', app);
    return Number(await this.call('scopefs_tombstone_horizon', { p_app: app }));
  }

  async close(): Promise<void> {}
}
