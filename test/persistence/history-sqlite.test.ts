import { mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localHistoryFile, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import { SqliteHistory } from '../../persistence/history/sqlite-history.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { describeHistoryContract, freshScope, version } from './history-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-history-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeHistoryContract('memory', () => openMemoryHistory());
describeHistoryContract('sqlite file', () => new SqliteHistory({ file: join(dir, 'contract.db') }), { shared: true });
describeHistoryContract('local (.scopefs/history.db)', () => openLocalHistory(join(dir, 'root')), { shared: true });

describe('history placement', () => {
  it('the SQLite store keeps history inside its own database file, beside its rows', async () => {
    const file = join(dir, 'store.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    const history = await openStoreHistory(store);
    try {
      await history.record('app', [version('/a.md', 'x')]);
      const again = await openStoreHistory(store);
      expect((await again.versions('app', '/a.md')).length).toBe(1);
      await again.close();
      expect(await store.head('app')).toBe(0);
    } finally {
      await history.close();
      await store.close();
    }
  });

  it('scopes sharing a memory store share one history, which outlives close()', async () => {
    const store = new MemoryStore();
    const scope = freshScope();
    const first = await openStoreHistory(store);
    await first.record(scope, [version('/a.md', 'x')]);
    await first.close();
    expect((await (await openStoreHistory(store)).versions(scope, '/a.md')).length).toBe(1);
  });

  it('a local history lives under the root .scopefs/ and only its owner may read it', async () => {
    const root = join(dir, 'private-root');
    const history = openLocalHistory(root);
    await history.record('local', [version('/a.md', 'x')]);
    await history.close();
    expect(statSync(localHistoryFile(root)).mode & 0o077).toBe(0);
  });
});
