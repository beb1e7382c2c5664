import { mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { localHistoryFile, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import { SqliteHistory } from '../../persistence/history/sqlite-history.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { bytes, describeHistoryContract, freshScope, version } from './history-contract.js';

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

describe('checkpoint cost', () => {
  it('a checkpoint of 1,000 files with 10 changed adds 10 manifest rows, not 1,000', async () => {
    const file = join(dir, 'cost.db');
    const history = new SqliteHistory({ file });
    const scope = freshScope();
    const entry = (i: number, body: string) => ({ path: `/f${i}.md`, hash: sha256(body), size: body.length, content: bytes(body) });
    const files = Array.from({ length: 1_000 }, (_, i) => entry(i, `v1 ${i}`));
    await history.saveCheckpoint(scope, { name: 'all', prefix: '/', at: 1, files });
    const rows = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM scopefs_history_manifest WHERE scope = ?').pluck().get(scope) as number;
      } finally {
        db.close();
      }
    };
    expect(rows()).toBe(1_000);
    const changed = files.map((f, i) => (i % 100 === 0 ? entry(i, `v2 ${i}`) : f));
    await history.saveCheckpoint(scope, { name: 'ten changed', prefix: '/', at: 2, files: changed });
    expect(rows()).toBe(1_010);
    expect((await history.checkpoint(scope, 'ten changed'))?.files.filter((f) => f.hash === sha256('v2 0'))).toHaveLength(1);
    await history.close();
  });
});
