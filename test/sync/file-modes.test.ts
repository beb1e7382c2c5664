/**
 * scopefs' own state is the owner's alone: the SQLite store and its sidecars,
 * the sync state, the journal, the lock and every `.scopefs/` directory are
 * 0600 / 0700, whatever the umask, and state left looser by an older version
 * is tightened when it is opened.
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import { startScope } from '../../supervisors/scope/scopes.js';
import { sha256 } from '../../src/content.js';
import { loadOrCreateToken } from '../../src/http/auth.js';
import { SyncStateDb } from '../../src/sync/state-db.js';

let dir: string;
let counter = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-modes-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** `{ 'root/.scopefs': '700', ... }` for every path that exists. */
async function modes(paths: readonly string[]): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const path of paths) {
    const info = await stat(join(dir, path)).catch(() => undefined);
    if (info) found[path] = (info.mode & 0o777).toString(8);
  }
  return found;
}

const PRIVATE_DIRS = ['.scopefs', 'root/.scopefs'];
const PRIVATE_FILES = [
  '.scopefs/store.db',
  '.scopefs/store.db-wal',
  '.scopefs/store.db-shm',
  'root/.scopefs/sync-state.db',
  'root/.scopefs/sync-state.db-wal',
  'root/.scopefs/sync-state.db-shm',
  'root/.scopefs/journal.log',
  'root/.scopefs/owner.lock',
];

async function runScope(): Promise<void> {
  const scope = await startScope({
    scopeKey: ['modes', ++counter],
    root: join(dir, 'root'),
    watch: false,
    sync: { store: `sqlite:${join(dir, '.scopefs', 'store.db')}`, app: 'modes', debounceMs: 5 },
  });
  try {
    await scope.fs.writeFile('/notes.md', 'hello');
    await scope.sync!.idle({ timeoutMs: 20_000 });
    // Every file must exist while the scope runs, so the check below covers them all.
    expect(Object.keys(await modes([...PRIVATE_DIRS, ...PRIVATE_FILES])).sort()).toEqual([...PRIVATE_DIRS, ...PRIVATE_FILES].sort());
    expect(await modes([...PRIVATE_DIRS, ...PRIVATE_FILES])).toEqual(expected());
  } finally {
    await scope.stop();
  }
}

function expected(): Record<string, string> {
  return Object.fromEntries([...PRIVATE_DIRS.map((p) => [p, '700']), ...PRIVATE_FILES.map((p) => [p, '600'])]);
}

describe('file modes of scopefs state', () => {
  it('a new root, store and sync state are created 0600 / 0700', async () => {
    await runScope();
    expect(await modes(['root', 'root/notes.md'])).toEqual({ root: '755', 'root/notes.md': '644' }); // user content keeps the umask
  });

  it('state an older version left world-readable is tightened on open', async () => {
    await runScope();
    for (const path of PRIVATE_DIRS) await chmod(join(dir, path), 0o755);
    for (const path of ['.scopefs/store.db', 'root/.scopefs/sync-state.db', 'root/.scopefs/journal.log']) await chmod(join(dir, path), 0o644);
    // Sidecars a crash left behind, world-readable.
    await writeFile(join(dir, '.scopefs/store.db-wal'), '', { mode: 0o644 });
    await chmod(join(dir, '.scopefs/store.db-wal'), 0o644);
    await runScope();
  });

  it('the SQLite store and the sync state outside a .scopefs folder: files private, the folder left alone', async () => {
    await mkdir(join(dir, 'shared'), { mode: 0o755 });
    await chmod(join(dir, 'shared'), 0o755);
    const store = new SqliteStore({ path: join(dir, 'shared', 'store.db') });
    await store.open();
    const content = new TextEncoder().encode('a');
    await store.push('modes', 'i', [{ owner: SHARED_OWNER, path: '/a.md', baseRevision: 0, content, hash: sha256(content) }]);
    const state = SyncStateDb.open(join(dir, 'shared', 'state.db'));
    state.close();
    const found = await modes(['shared', 'shared/store.db', 'shared/store.db-wal', 'shared/store.db-shm', 'shared/state.db']);
    await store.close();
    expect(found).toEqual({ shared: '755', 'shared/store.db': '600', 'shared/store.db-wal': '600', 'shared/store.db-shm': '600', 'shared/state.db': '600' });
  });

  it('the generated bearer token and its .scopefs folder are private, even when the folder existed', async () => {
    await mkdir(join(dir, 'root', '.scopefs'), { recursive: true, mode: 0o755 });
    await chmod(join(dir, 'root', '.scopefs'), 0o755);
    await loadOrCreateToken(join(dir, 'root', '.scopefs', 'token'));
    expect(await modes(['root/.scopefs', 'root/.scopefs/token'])).toEqual({ 'root/.scopefs': '700', 'root/.scopefs/token': '600' });
  });
});
