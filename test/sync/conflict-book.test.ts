import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { ConflictBook } from '../../src/sync/conflict-book.js';
import { isConflictCopy } from '../../src/sync/conflict-copy.js';
import { SyncStateDb } from '../../src/sync/state-db.js';

const AT = new Date(Date.UTC(2026, 11, 3, 22, 23, 9));
const bytes = (text: string) => new TextEncoder().encode(text);

let scope: RunningScope;
let state: SyncStateDb;
let book: ConflictBook;

beforeEach(async () => {
  scope = await startScope({ scopeKey: `conflict-book-${randomBytes(4).toString('hex')}` });
  state = SyncStateDb.open(':memory:');
  book = new ConflictBook(scope.fs, state, 'c');
});

afterEach(async () => {
  state.close();
  await scope.stop();
});

const conflictOn = (path: string, remote: string) =>
  book.record({ path, local: bytes('local'), remote: bytes(remote), remoteRevision: 1, remoteInstance: 'a', at: AT });

describe('ConflictBook copies', () => {
  // Found by db-faults (SQLite locked) in CI: after a lock, the instances
  // conflict on many paths within one second. /docs/todo.md conflicted, was
  // moved to /archive/todo.md (its conflict followed, its copy stayed), and
  // /docs/todo.md conflicted again in the same second: the copy name (time
  // to the second + instance) was the first conflict's, so the first remote
  // version was overwritten and /archive/todo.md's record replaced. That
  // path was then skipped by every pass and listed nowhere.
  it('a second conflict of a path within one second gets its own copy when the first moved away', async () => {
    await scope.fs.writeFile('/docs/todo.md', 'local');
    const first = await conflictOn('/docs/todo.md', 'first remote');
    await scope.fs.moveFile('/docs/todo.md', '/archive/todo.md');
    await book.followMove('/docs/todo.md', '/archive/todo.md');
    await scope.fs.writeFile('/docs/todo.md', 'local again');
    const second = await conflictOn('/docs/todo.md', 'second remote');

    expect(second.copyPath).not.toBe(first.copyPath);
    expect(isConflictCopy(second.copyPath)).toBe(true);
    expect(await scope.fs.readFile(first.copyPath)).toBe('first remote');
    expect(await scope.fs.readFile(second.copyPath)).toBe('second remote');
    expect(book.paths()).toEqual(['/archive/todo.md', '/docs/todo.md']);
    expect(book.list().map((c) => [c.path, c.copyPath])).toEqual([
      ['/archive/todo.md', first.copyPath],
      ['/docs/todo.md', second.copyPath],
    ]);
  });

  it('never writes a new conflict over a file that happens to have the copy name', async () => {
    const taken = '/notes.sync-conflict-20261203-222309-a.md';
    await scope.fs.writeFile(taken, 'an agent kept this');
    const conflict = await conflictOn('/notes.md', 'remote');
    expect(conflict.copyPath).toBe('/notes.sync-conflict-20261203-222309_2-a.md');
    expect(await scope.fs.readFile(taken)).toBe('an agent kept this');
  });

  it('refreshes the copy of a path still in conflict with the newer remote version', async () => {
    const first = await conflictOn('/notes.md', 'remote 1');
    const again = await conflictOn('/notes.md', 'remote 2');
    expect(again.copyPath).toBe(first.copyPath);
    expect(await scope.fs.readFile(first.copyPath)).toBe('remote 2');
    expect(book.list()).toHaveLength(1);
  });
});
