/**
 * The lock mirror of a scope on a SQLite store refreshes on commits heard by
 * the process's one change poller of the file, not on a timer per scope:
 * idle mirrors send no lock queries, and a lock taken by another instance
 * still reaches them.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { watchLockChanges } from '../../persistence/locks/sqlite-lock-changes.js';
import { SqliteLocks } from '../../persistence/locks/sqlite-locks.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { LockTable } from '../../src/coordination/locks.js';
import { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import { waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-locks-mirror-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** SqliteLocks counting its live() queries. */
class CountingLocks extends SqliteLocks {
  liveCalls = 0;
  override async live(app: string) {
    this.liveCalls += 1;
    return super.live(app);
  }
}

describe('a lock mirror on a SQLite store', () => {
  it('sends no lock queries while idle, and mirrors a lock another instance takes', async () => {
    const file = join(dir, 'store.db');
    const store = new SqliteStore({ path: file });
    await store.open(); // creates the schema
    const mirrors = Array.from({ length: 20 }, () => {
      const locks = new CountingLocks(file);
      return { locks, table: new LockTable(), backed: undefined as StoreBackedLocks | undefined };
    });
    const other = new SqliteLocks(file);
    try {
      for (const m of mirrors) {
        m.backed = new StoreBackedLocks(m.table, m.locks, 'app');
        await m.backed.refresh();
      }
      const before = mirrors.map((m) => m.locks.liveCalls);
      // Let the old per-scope timer (1 s) fire at least twice if it were still there.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect(mirrors.map((m) => m.locks.liveCalls)).toEqual(before);

      // A lock of another app reaches its own watchers, not these mirrors.
      const heard = new Promise<void>((resolve) => {
        const stop = watchLockChanges(file, 'other-app', () => (stop(), resolve()));
      });
      await other.acquire('other-app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
      await heard;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a refresh it set off would have run by now
      expect(mirrors.map((m) => m.locks.liveCalls)).toEqual(before);

      const answer = await other.acquire('app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
      expect(answer.acquired).toBe(true);
      await waitFor(async () => mirrors.every((m) => m.table.list().length === 1), 5_000, 'every mirror to hear the lock');
      expect(mirrors[0]!.table.list()[0]).toMatchObject({ path: '/docs', owner: 'elsewhere' });
    } finally {
      for (const m of mirrors) await m.backed?.close();
      await other.close();
      await store.close();
    }
  });
});
