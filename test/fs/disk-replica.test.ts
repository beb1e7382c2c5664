/**
 * The disk as a replica, on real files, with no watcher: outside changes are
 * found by a persist's compare-and-swap or by `checkDisk` (what the watcher
 * calls), and reconciled three ways; nothing acknowledged and no outside
 * save is overwritten.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { versionOf } from '../../persistence/drivers/disk-io.js';
import type { FileSystemServer, FileSystemServerOptions } from '../../src/fs/file-system-server.js';
import { Journal } from '../../src/fs/journal.js';
import { isConflictCopy } from '../../src/sync/conflict-copy.js';
import type { FsEvent } from '../../src/types.js';
import { Servers, tempDir } from './helpers.js';

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
let root: string;
beforeEach(async () => {
  dir = await tempDir();
  root = join(dir.path, 'root');
});
afterEach(async () => {
  await servers.stopAll();
  await dir.remove();
});

const journalPath = () => join(root, '.scopefs', 'journal');
function onDisk(extra: FileSystemServerOptions = {}): FileSystemServerOptions {
  return { journalPath: journalPath(), configs: [{ base: '/', driver: new DiskDriver({ root, fsync: false }), default: true }], ...extra };
}
const onDiskText = (name: string) => readFile(join(root, name), 'utf8');

/** Resolves with the first event matching `predicate`. */
function next(fs: FileSystemServer, predicate: (e: FsEvent) => boolean): Promise<FsEvent> {
  return new Promise((resolve) => {
    const off = fs.subscribe((e) => {
      if (predicate(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('persists are compare-and-swap on the disk base', () => {
  it("an editor's save between an API write and its delayed persist is merged, not renamed over", async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/doc.md', 'title\n\nbody\n\nfooter\n');
    await fs.flushAll();
    await fs.writeFile('/doc.md', 'title (api)\n\nbody\n\nfooter\n'); // acknowledged, waiting for its debounce
    await writeFile(join(root, 'doc.md'), 'title\n\nbody\n\nfooter (editor)\n'); // an editor saves meanwhile
    const merged = next(fs, (e) => e.type === 'file_updated' && e.origin === 'disk');
    await fs.flushAll(); // the persist finds another version on disk
    await merged;
    await fs.flushAll();
    expect(await fs.readFile('/doc.md')).toBe('title (api)\n\nbody\n\nfooter (editor)\n');
    expect(await onDiskText('doc.md')).toBe('title (api)\n\nbody\n\nfooter (editor)\n');
  });

  it('what cannot be merged keeps memory in place and the outside save beside it, recorded', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/doc.md', 'one\n');
    await fs.flushAll();
    await fs.writeFile('/doc.md', 'api\n');
    await writeFile(join(root, 'doc.md'), 'editor\n');
    const conflict = next(fs, (e) => e.type === 'disk_conflict');
    await fs.flushAll();
    const event = (await conflict) as Extract<FsEvent, { type: 'disk_conflict' }>;
    expect(event.path).toBe('/doc.md');
    expect(isConflictCopy(event.copyPath)).toBe(true);
    await fs.flushAll();
    expect(await fs.readFile('/doc.md')).toBe('api\n');
    expect(await fs.readFile(event.copyPath)).toBe('editor\n');
    expect(await onDiskText('doc.md')).toBe('api\n');
    expect(await onDiskText(event.copyPath.slice(1))).toBe('editor\n');
  });

  it('a delete does not remove a file someone rewrote on disk: modification beats deletion', async () => {
    const fs = await servers.start(onDisk());
    await fs.writeFile('/keep.md', 'ours\n');
    await fs.flushAll();
    await writeFile(join(root, 'keep.md'), 'rewritten outside\n');
    const back = next(fs, (e) => e.type === 'file_updated' && e.path === '/keep.md');
    await fs.deleteFile('/keep.md');
    await back;
    expect(await fs.readFile('/keep.md')).toBe('rewritten outside\n');
    expect(await onDiskText('keep.md')).toBe('rewritten outside\n');
  });

  it('a new file does not replace one another program created at its path first', async () => {
    const fs = await servers.start(onDisk());
    await writeFile(join(root, 'new.md'), 'created outside\n'); // after indexing: the server never saw it
    const conflict = next(fs, (e) => e.type === 'disk_conflict');
    await fs.writeFile('/new.md', 'created through the API\n');
    const { copyPath } = (await conflict) as Extract<FsEvent, { type: 'disk_conflict' }>;
    await fs.flushAll();
    expect(await onDiskText('new.md')).toBe('created through the API\n');
    expect(await onDiskText(copyPath.slice(1))).toBe('created outside\n');
  });
});

describe('checkDisk: what the watcher reports', () => {
  it("recognises the server's own writes by version, however many came before the check", async () => {
    const fs = await servers.start(onDisk({ debounceMs: 0 }));
    const events: FsEvent[] = [];
    fs.subscribe((e) => void events.push(e));
    const writes = Array.from({ length: 200 }, (_, i) => fs.writeFile('/burst.md', `version ${i}\n`));
    await Promise.all(writes);
    await fs.flushAll();
    await Promise.all(Array.from({ length: 20 }, () => fs.checkDisk('/burst.md')));
    expect(events.filter((e) => e.type !== 'file_updated' || e.origin !== 'local')).toEqual([]);
    expect(await fs.readFile('/burst.md')).toBe('version 199\n');
    expect(await onDiskText('burst.md')).toBe('version 199\n');
  });

  it('a stale read overtaken by our own write is read again, never taken for an outside edit', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 0 }));
    await fs.writeFile('/race.md', 'v0\n');
    await fs.flushAll();
    const outside: FsEvent[] = [];
    fs.subscribe((e) => {
      if (e.type !== 'snapshot' && e.origin === 'disk') outside.push(e);
    });
    for (let i = 1; i <= 50; i++) {
      const write = fs.writeFile('/race.md', `v${i}\n`);
      const check = fs.checkDisk('/race.md'); // queued beside the persist of the write
      await Promise.all([write, check]);
    }
    await fs.flushAll();
    await fs.checkDisk('/race.md');
    expect(outside).toEqual([]);
    expect(await onDiskText('race.md')).toBe('v50\n');
  });

  it('an outside edit of a clean file is taken in without being written back', async () => {
    const fs = await servers.start(onDisk());
    await fs.writeFile('/a.md', 'from the api\n');
    await fs.flushAll();
    await writeFile(join(root, 'a.md'), 'from an editor\n');
    const inode = lstatSync(join(root, 'a.md')).ino;
    await fs.checkDisk('/a.md');
    expect(await fs.readFile('/a.md')).toBe('from an editor\n');
    expect((await fs.stat('/a.md')).dirty).toBe(false);
    await fs.flushAll();
    expect(lstatSync(join(root, 'a.md')).ino).toBe(inode); // not rewritten
  });

  it('an outside rename-over and an outside delete are followed; a delete of a changed file is not', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/x.md', 'x\n');
    await fs.writeFile('/y.md', 'y\n');
    await fs.flushAll();
    await writeFile(join(root, 'x.tmp'), 'x saved atomically\n');
    await rename(join(root, 'x.tmp'), join(root, 'x.md'));
    await fs.checkDisk('/x.tmp'); // gone already: nothing to take in
    await fs.checkDisk('/x.md');
    expect(await fs.readFile('/x.md')).toBe('x saved atomically\n');
    expect(await fs.fileExists('/x.tmp')).toBe(false);

    await fs.writeFile('/y.md', 'y, acknowledged\n'); // not on disk yet
    await unlink(join(root, 'y.md'));
    await unlink(join(root, 'x.md'));
    await fs.checkDisk('/x.md');
    await fs.checkDisk('/y.md');
    expect(await fs.fileExists('/x.md')).toBe(false);
    await fs.flushAll();
    expect(await onDiskText('y.md')).toBe('y, acknowledged\n');
  });

  it('names that differ only in Unicode normalisation are reported, never merged into one file', async () => {
    const nfc = 'caf\u00e9.md';
    const nfd = 'cafe\u0301.md';
    await mkdir(root, { recursive: true });
    await writeFile(join(root, nfc), 'composed\n');
    await writeFile(join(root, nfd), 'decomposed\n');
    const fs = await servers.start(onDisk());
    expect(await fs.listFiles()).toEqual([`/${nfc}`]);
    // Found while indexing, before anyone subscribed: status shows it.
    expect((await fs.stats()).diskAlerts).toMatchObject([{ alert: 'collision', path: `/${nfd}` }]);
    const alert = next(fs, (e) => e.type === 'disk_alert');
    await fs.checkDisk(`/${nfd}`);
    expect(await alert).toMatchObject({ alert: 'collision', path: `/${nfd}` });
    expect(await fs.readFile(`/${nfc}`)).toBe('composed\n');
    await fs.deleteFile(`/${nfc}`);
    await fs.flushAll();
    expect(readdirSync(root).filter((n) => n !== '.scopefs')).toEqual([nfd]);
    expect(await onDiskText(nfd)).toBe('decomposed\n');
  });

  it('a link put where a file was is reported and never followed; memory keeps its version', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/l.md', 'mine\n');
    await fs.flushAll();
    await writeFile(join(dir.path, 'outside.md'), 'secret\n');
    await unlink(join(root, 'l.md'));
    await symlink(join(dir.path, 'outside.md'), join(root, 'l.md'));
    const alert = next(fs, (e) => e.type === 'disk_alert');
    await fs.checkDisk('/l.md');
    expect(await alert).toMatchObject({ alert: 'refused', path: '/l.md' });
    expect(await fs.readFile('/l.md')).toBe('mine\n');
    await fs.writeFile('/l.md', 'mine, again\n');
    const result = await fs.flushAll();
    expect(result.failed.map((f) => f.path)).toEqual(['/l.md']);
    expect(await readFile(join(dir.path, 'outside.md'), 'utf8')).toBe('secret\n');
  });
});

describe('refused at write time', () => {
  it('a path that is a link, a directory, under a file, or too long for the OS is refused with EINVAL', async () => {
    await mkdir(join(root, 'dir'), { recursive: true });
    await writeFile(join(dir.path, 'target.md'), 't');
    await symlink(join(dir.path, 'target.md'), join(root, 'link.md'));
    await symlink(dir.path, join(root, 'linked-dir'));
    await writeFile(join(root, 'plain.md'), 'p');
    const fs = await servers.start(onDisk());
    await expect(fs.writeFile('/link.md', 'x')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('symbolic link') });
    await expect(fs.writeFile('/linked-dir/a.md', 'x')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fs.writeFile('/dir', 'x')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('directory') });
    await expect(fs.writeFile('/plain.md/under.md', 'x')).rejects.toMatchObject({ code: 'EINVAL' });
    const deep = `/${Array.from({ length: 20 }, () => 'd'.repeat(203)).join('/')}.md`; // valid virtually, too long with the root
    await expect(fs.writeFile(deep, 'x')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('platform limit') });
    await fs.writeFile('/ok.md', 'fine');
    await expect(fs.moveFile('/ok.md', '/link.md')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await fs.listFiles()).toEqual(['/ok.md', '/plain.md']);
    expect((await fs.flushAll()).failed).toEqual([]);
  });
});

describe('losing the root', () => {
  it('a removed root re-creates the journal before the next write is acknowledged, with everything pending', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/before.md', 'persisted\n');
    await fs.flushAll();
    await fs.writeFile('/before.md', 'acknowledged, not yet on disk\n');
    await rm(root, { recursive: true, force: true });
    const alert = next(fs, (e) => e.type === 'disk_alert');
    await fs.writeFile('/after.md', 'written after the removal\n');
    expect(await alert).toMatchObject({ alert: 'journal_recreated' });
    // What a restart after a kill would replay: both acknowledged changes.
    const replayed = Journal.read(journalPath()).records.flat();
    expect(replayed.map((op) => op.path).sort()).toEqual(['/after.md', '/before.md']);
    await fs.flushAll();
    expect(await onDiskText('before.md')).toBe('acknowledged, not yet on disk\n');
    expect(await onDiskText('after.md')).toBe('written after the removal\n');
  });
});

describe('a replay after a crash', () => {
  /** The journal a process killed right after acknowledging `content` at `path` leaves behind. */
  function crashedWith(path: string, content: string, diskBase: string | null): void {
    Journal.create(journalPath(), [{ op: 'put', path, content: Buffer.from(content), mimeType: 'text/markdown', createdAt: 1, modifiedAt: 2, diskBase }]).close();
  }
  const versionAt = (name: string) => versionOf(lstatSync(join(root, name), { bigint: true }));

  it('does not replay over an outside edit made while the server was down: both are kept', async () => {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'notes.md'), 'as persisted\n');
    crashedWith('/notes.md', 'acknowledged before the crash\n', versionAt('notes.md'));
    await writeFile(join(root, 'notes.md'), 'edited while the server was down\n');
    const fs = await servers.start(onDisk());
    await fs.flushAll();
    expect(await fs.readFile('/notes.md')).toBe('acknowledged before the crash\n');
    const copies = (await fs.listFiles()).filter(isConflictCopy);
    expect(copies).toHaveLength(1);
    expect(await fs.readFile(copies[0]!)).toBe('edited while the server was down\n');
  });

  it("recognises its own persist that landed before the crash: no conflict", async () => {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'notes.md'), 'as persisted\n');
    crashedWith('/notes.md', 'acknowledged and persisted\n', versionAt('notes.md'));
    await writeFile(join(root, 'notes.md'), 'acknowledged and persisted\n'); // the persist, before the journal was emptied
    const fs = await servers.start(onDisk());
    await fs.flushAll();
    expect(await fs.listFiles()).toEqual(['/notes.md']);
    expect(await onDiskText('notes.md')).toBe('acknowledged and persisted\n');
  });
});
