import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStoreTombstones } from '../../persistence/history/open-history.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { SHARED_OWNER, type SyncStore } from '../../persistence/stores/types.js';
import { change, freshApp, readAll, revisionOf } from './store-contract-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tombstones-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const stores: Array<[string, () => SyncStore]> = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore({ path: join(dir, `${freshApp()}.db`) })],
];

describe.each(stores)('tombstone purging: %s store', (_name, makeStore) => {
  /** A store with /gone.md deleted (a tombstone at revision 3) and /kept.md live. */
  async function withTombstone() {
    const store = makeStore();
    await store.open();
    const app = freshApp();
    const [gone, kept] = (await store.push(app, 'a', [change('/gone.md', 'x'), change('/kept.md', 'y')])).map(revisionOf);
    const tombstone = revisionOf((await store.push(app, 'a', [change('/gone.md', null, gone)]))[0]);
    const purger = openStoreTombstones(store);
    return { store, app, purger, tombstone, kept: kept! };
  }

  it('purges a tombstone only once every instance seen recently has passed it, and records the horizon', async () => {
    const { store, app, purger, tombstone } = await withTombstone();
    const now = Date.now() + 60_000;
    try {
      await purger.noteCursor(app, 'a', tombstone, now);
      await purger.noteCursor(app, 'b', tombstone - 1, now);
      expect(await purger.purgeTombstones(app, 1_000, now)).toEqual({ purged: 0, horizon: 0 });
      expect(await store.get(app, SHARED_OWNER, '/gone.md')).toMatchObject({ deleted: true });
      await purger.noteCursor(app, 'b', tombstone, now);
      // A cursor never moves back.
      await purger.noteCursor(app, 'a', 0, now);
      expect(await purger.purgeTombstones(app, 1_000, now)).toEqual({ purged: 1, horizon: tombstone });
      expect(await store.get(app, SHARED_OWNER, '/gone.md')).toBeNull();
      expect((await readAll(store, app, [SHARED_OWNER])).rows.map((row) => row.path)).toEqual(['/kept.md']);
      expect(await purger.tombstoneHorizon(app)).toBe(tombstone);
    } finally {
      await purger.close();
      await store.close();
    }
  });

  it('ignores instances not seen within olderThanMs, keeps young tombstones, and purges nothing with no instance seen', async () => {
    const { store, app, purger, tombstone } = await withTombstone();
    try {
      const now = Date.now();
      expect((await purger.purgeTombstones(app, 0, now + 10)).purged).toBe(0);
      await purger.noteCursor(app, 'stale', 0, now - 10_000);
      await purger.noteCursor(app, 'live', tombstone, now + 1_000);
      // The tombstone is younger than 60 s.
      expect((await purger.purgeTombstones(app, 60_000, now + 1_000)).purged).toBe(0);
      // Five seconds on, 'stale' (last seen 16 s before) no longer holds it back.
      expect((await purger.purgeTombstones(app, 5_000, now + 6_000)).purged).toBe(1);
    } finally {
      await purger.close();
      await store.close();
    }
  });
});

describe('tombstone cursors on one SQLite file, reported together', () => {
  it('writes the reports of many purgers made in one turn, each settling once committed, and fails those of a closed purger', async () => {
    const store = new SqliteStore({ path: join(dir, `${freshApp()}.db`) });
    await store.open();
    const app = freshApp();
    const [gone] = (await store.push(app, 'a', [change('/gone.md', 'x')])).map(revisionOf);
    const tombstone = revisionOf((await store.push(app, 'a', [change('/gone.md', null, gone)]))[0]);
    const purgers = Array.from({ length: 20 }, () => openStoreTombstones(store));
    const closed = openStoreTombstones(store);
    const now = Date.now() + 60_000;
    try {
      // Nineteen instances past the tombstone, one just before it: nothing may be purged.
      const reports = purgers.map((purger, i) => purger.noteCursor(app, `i${i}`, i === 7 ? tombstone - 1 : tombstone, now));
      await closed.close();
      await expect(closed.noteCursor(app, 'closed', tombstone, now)).rejects.toMatchObject({ code: 'EIO' });
      await Promise.all(reports);
      expect((await purgers[0]!.purgeTombstones(app, 1_000, now)).purged).toBe(0);
      await purgers[3]!.noteCursor(app, 'i7', tombstone, now);
      expect((await purgers[0]!.purgeTombstones(app, 1_000, now)).purged).toBe(1);
    } finally {
      for (const purger of purgers) await purger.close();
      await store.close();
    }
  });
});
