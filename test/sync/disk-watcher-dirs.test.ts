/**
 * Directories under a watched root: the native watcher reports a directory
 * once, not each file in it, so the watcher walks one that appears and takes
 * every file the server has under one that goes away.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FsEvent } from '../../src/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

let dir: string;
let scope: RunningScope;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-watch-dirs-'));
  await mkdir(join(dir, 'root'));
  scope = await startScope({ scopeKey: `watch-dirs-${Date.now()}-${Math.random()}`, root: join(dir, 'root'), watch: true });
});
afterEach(async () => {
  await scope.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once every path in `paths` has had an event of `type` with origin disk. */
function diskEvents(type: FsEvent['type'], paths: string[]): Promise<void> {
  const waiting = new Set(paths);
  return new Promise((resolve) => {
    const unsubscribe = scope.fs.subscribe((event) => {
      if (event.type === type && 'path' in event && event.origin === 'disk') waiting.delete(event.path);
      if (waiting.size === 0) {
        unsubscribe();
        resolve();
      }
    });
  });
}

describe('disk watcher: directories', () => {
  it('a directory moved in with files in it: every file is taken in', async () => {
    const outside = join(dir, 'outside');
    await mkdir(join(outside, 'deep'), { recursive: true });
    await writeFile(join(outside, 'a.md'), 'a');
    await writeFile(join(outside, 'deep', 'b.md'), 'b');
    const arrived = diskEvents('file_updated', ['/moved/a.md', '/moved/deep/b.md']);
    await rename(outside, join(dir, 'root', 'moved'));
    await arrived;
    expect(await scope.fs.readFile('/moved/deep/b.md')).toBe('b');
  });

  it('a directory created and filled at once: every file is taken in', async () => {
    const arrived = diskEvents('file_updated', ['/x/y/z/1.md', '/x/y/z/2.md']);
    await mkdir(join(dir, 'root', 'x', 'y', 'z'), { recursive: true });
    await writeFile(join(dir, 'root', 'x', 'y', 'z', '1.md'), '1');
    await writeFile(join(dir, 'root', 'x', 'y', 'z', '2.md'), '2');
    await arrived;
    expect(await scope.fs.listFiles('/x/')).toEqual(['/x/y/z/1.md', '/x/y/z/2.md']);
  });

  it('a directory moved out of the root: every file under it is deleted', async () => {
    await scope.fs.writeFile('/gone/one.md', '1');
    await scope.fs.writeFile('/gone/sub/two.md', '2');
    await scope.fs.flushAll();
    const deleted = diskEvents('file_deleted', ['/gone/one.md', '/gone/sub/two.md']);
    await rename(join(dir, 'root', 'gone'), join(dir, 'taken-away'));
    await deleted;
    expect(await scope.fs.listFiles('/gone/')).toEqual([]);
  });
});
