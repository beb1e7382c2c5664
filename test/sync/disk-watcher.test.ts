import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { FsEvent } from '../../src/types.js';
import { SyncLab, nextEvent, type SyncedScope } from '../helpers/sync-scopes.js';

function nextFsEvent(scope: SyncedScope, predicate: (e: FsEvent) => boolean): Promise<FsEvent> {
  return new Promise((resolve) => {
    const unsubscribe = scope.fs.subscribe((event) => {
      if (predicate(event)) {
        unsubscribe();
        resolve(event);
      }
    });
  });
}

describe('disk watcher: edits by other programs enter through the FileSystemServer', () => {
  let store: MemoryStore;
  let lab: SyncLab;

  beforeEach(async () => {
    store = new MemoryStore();
    lab = await SyncLab.create(store);
  });
  afterEach(() => lab.remove());

  it('an external edit arrives with origin disk and is synced', async () => {
    const a = await lab.start('a', {}, { watch: true });
    const b = await lab.start('b');
    await a.fs.writeFile('/notes.md', 'written through the API');
    await lab.settle(a, b);
    await a.fs.flushAll();
    const arrived = nextFsEvent(a, (e) => e.type === 'file_updated' && e.path === '/notes.md' && e.origin === 'disk');
    await writeFile(join(a.dir, 'notes.md'), 'edited in an editor');
    await arrived;
    expect(await a.fs.readFile('/notes.md')).toBe('edited in an editor');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/notes.md')).toBe('edited in an editor');
  });

  it('an external delete arrives with origin disk', async () => {
    const a = await lab.start('a', {}, { watch: true });
    await a.fs.writeFile('/old.md', 'bye');
    await a.fs.flushAll();
    // A file that appears and vanishes within the watcher's gathering window
    // is one look that finds nothing; let the watcher see /old.md first (a
    // later external marker arriving means earlier disk events were handled).
    const marker = nextFsEvent(a, (e) => e.type === 'file_updated' && e.path === '/marker.md');
    await writeFile(join(a.dir, 'marker.md'), 'm');
    await marker;
    const deleted = nextFsEvent(a, (e) => e.type === 'file_deleted' && e.path === '/old.md');
    await unlink(join(a.dir, 'old.md'));
    expect(await deleted).toMatchObject({ origin: 'disk' });
    expect(await a.fs.fileExists('/old.md')).toBe(false);
  });

  it("the engine's own writes are never re-detected as edits (decided by the disk base's version)", async () => {
    const a = await lab.start('a', {}, { watch: true });
    const b = await lab.start('b');
    const diskOrigins: string[] = [];
    a.fs.subscribe((e) => {
      if (e.type !== 'snapshot' && e.origin === 'disk') diskOrigins.push(e.type);
    });
    for (let i = 0; i < 5; i++) await b.fs.writeFile(`/remote-${i}.md`, `from b ${i}`);
    for (let i = 0; i < 5; i++) await a.fs.writeFile(`/local-${i}.md`, `from a ${i}`);
    await lab.settle(a, b);
    await a.fs.flushAll();
    // A marker written by another program: once it arrives, every earlier
    // disk event has been handled too (one watcher, events in order).
    const marker = nextFsEvent(a, (e) => e.type === 'file_updated' && e.path === '/marker.md');
    await writeFile(join(a.dir, 'marker.md'), 'external');
    await marker;
    expect(diskOrigins).toEqual(['file_updated']);
    expect(await readFile(join(a.dir, 'remote-3.md'), 'utf8')).toBe('from b 3');
  });

  it('an outside edit that cannot be merged is a recorded conflict: listed, held, resolvable', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/doc.md', 'one\n');
    await lab.settle(a, b);
    await a.fs.flushAll();
    await a.fs.writeFile('/doc.md', 'through the api\n'); // acknowledged; its persist is debounced
    await writeFile(join(a.dir, 'doc.md'), 'saved by an editor\n');
    const recorded = nextEvent(a, 'conflict');
    await a.fs.flushAll(); // the persist finds the editor's version on disk
    const { conflict } = await recorded;
    expect(conflict).toMatchObject({ path: '/doc.md', remoteInstance: 'disk', remoteSnippet: 'saved by an editor\n', localSnippet: 'through the api\n' });
    expect((await a.sync!.status()).conflicts).toEqual(['/doc.md']);
    await a.sync!.resolveConflict('/doc.md', 'remote');
    await lab.settle(a, b);
    expect(await a.fs.readFile('/doc.md')).toBe('saved by an editor\n');
    expect(await b.fs.readFile('/doc.md')).toBe('saved by an editor\n');
    expect(await a.fs.fileExists(conflict.copyPath)).toBe(false);
  });

  it('ignores the engine state directory', async () => {
    const a = await lab.start('a', {}, { watch: true });
    await rm(join(a.dir, '.scopefs', 'never-there'), { force: true });
    await writeFile(join(a.dir, '.scopefs', 'scratch.txt'), 'internal');
    const marker = nextFsEvent(a, (e) => e.type === 'file_updated' && e.path === '/marker.md');
    await writeFile(join(a.dir, 'marker.md'), 'm');
    await marker;
    expect((await a.fs.listFiles('/')).filter((p) => p.includes('scopefs'))).toEqual([]);
  });
});
