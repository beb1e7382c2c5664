/**
 * Outside edits around a kill, on real files. A journal replay at start
 * against a disk another program changed just before the kill (writes,
 * moves of a file or a directory, deletes): every outside version is kept,
 * in place or as a conflict copy, never replaced by a replayed change. And
 * a file another program is in the middle of writing (created or truncated,
 * its write still to come) when a persist finds it: not taken as the outside
 * version and renamed over (the convergence seed 100014 lost `#k7##k8#` so).
 */
import { lstatSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { versionOf } from '../../persistence/drivers/disk-io.js';
import type { VersionCondition } from '../../persistence/drivers/types.js';
import type { FileSystemServerOptions } from '../../src/fs/file-system-server.js';
import { Journal } from '../../src/fs/journal.js';
import type { JournalOp } from '../../src/fs/journal-codec.js';
import { isConflictCopy } from '../../src/sync/conflict-copy.js';
import { Servers, tempDir } from './helpers.js';

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
let root: string;
beforeEach(async () => {
  dir = await tempDir();
  root = join(dir.path, 'root');
  await mkdir(join(root, 'docs'), { recursive: true });
});
afterEach(async () => {
  await servers.stopAll();
  await dir.remove();
});

const journalPath = () => join(root, '.scopefs', 'journal');
const onDisk = (): FileSystemServerOptions => ({ journalPath: journalPath(), configs: [{ base: '/', driver: new DiskDriver({ root, fsync: false }), default: true }] });
const versionAt = (name: string) => versionOf(lstatSync(join(root, name), { bigint: true }));
const put = (path: string, content: string, diskBase: string | null): JournalOp => ({ op: 'put', path, content: Buffer.from(content), mimeType: 'application/octet-stream', createdAt: 1, modifiedAt: 2, diskBase });
const del = (path: string, diskBase: string | null): JournalOp => ({ op: 'delete', path, diskBase });
function crashedWith(...records: JournalOp[][]): void {
  const journal = Journal.create(journalPath(), []);
  for (const record of records) journal.append(record);
  journal.close();
}

/** Every version the server holds, files and conflict copies, as text. */
async function everything(): Promise<Record<string, string>> {
  const fs = await servers.start(onDisk());
  await fs.flushAll();
  await fs.flushAll();
  const out: Record<string, string> = {};
  for (const path of await fs.listFiles()) out[isConflictCopy(path) ? `copy of ${path.replace(/\.sync-conflict-.*$/, '')}` : path] = (await fs.readFile(path)) as string;
  return out;
}

describe('replay over an outside edit', () => {
  it('a new file journaled (base: absent) and created on disk by another program before it was persisted', async () => {
    crashedWith([put('/docs/blob.bin', '#k1#', null)]);
    await writeFile(join(root, 'docs/blob.bin'), '#k7##k8#');
    const all = await everything();
    expect(Object.values(all).sort()).toEqual(['#k1#', '#k7##k8#']);
  });

  for (const blobOnDisk of ['#k1#', '#k7##k8#']) {
    for (const copyOnDisk of [false, true]) {
      it(`killed after the conflict was journaled: blob on disk ${blobOnDisk}, copy on disk ${copyOnDisk}`, async () => {
        const copy = '/docs/blob.sync-conflict-20261208-013553-disk.bin';
        crashedWith([put('/docs/blob.bin', '#k1#', null)], [put(copy, '#k7##k8#', null)]);
        await writeFile(join(root, 'docs/blob.bin'), blobOnDisk);
        if (copyOnDisk) await writeFile(join(root, copy.slice(1)), '#k7##k8#');
        const all = await everything();
        expect(Object.values(all)).toContain('#k1#');
        expect(Object.values(all)).toContain('#k7##k8#');
      });
    }
  }
});

describe('replay of moves and deletes over outside edits', () => {
  it('a file move whose source was edited on disk before the kill', async () => {
    await writeFile(join(root, 'a.bin'), '#k1#');
    crashedWith([put('/docs/a.bin', '#k1#', null), del('/a.bin', versionAt('a.bin'))]);
    await writeFile(join(root, 'a.bin'), '#k1##k7#');
    expect(Object.values(await everything()).sort()).toEqual(['#k1#', '#k1##k7#']);
  });

  it('a file move whose target another program created before the kill', async () => {
    await writeFile(join(root, 'a.bin'), '#k1#');
    crashedWith([put('/docs/a.bin', '#k1#', null), del('/a.bin', versionAt('a.bin'))]);
    await writeFile(join(root, 'docs/a.bin'), '#k7#');
    expect(Object.values(await everything()).sort()).toEqual(['#k1#', '#k7#']);
  });

  it('a file move whose target was persisted, then edited on disk, before the kill', async () => {
    await writeFile(join(root, 'a.bin'), '#k1#');
    crashedWith([put('/docs/a.bin', '#k1#', null), del('/a.bin', versionAt('a.bin'))]);
    await writeFile(join(root, 'docs/a.bin'), '#k1##k7#'); // our copy, then an outside edit of it
    expect(Object.values(await everything())).toContain('#k1##k7#');
  });

  it('a directory move: one source edited, one target created, one pair untouched', async () => {
    await mkdir(join(root, 'archive'), { recursive: true });
    for (const n of ['x', 'y', 'z']) await writeFile(join(root, `archive/${n}.bin`), `#${n}1#`);
    const record = ['x', 'y', 'z'].flatMap((n) => [put(`/docs/${n}.bin`, `#${n}1#`, null), del(`/archive/${n}.bin`, versionAt(`archive/${n}.bin`))]);
    crashedWith(record);
    await writeFile(join(root, 'archive/x.bin'), '#x1##x2#'); // the source, edited
    await writeFile(join(root, 'docs/y.bin'), '#y9#'); // the target, created by someone else
    const all = Object.values(await everything()).sort();
    expect(all).toEqual(['#x1##x2#', '#x1#', '#y1#', '#y9#', '#z1#'].sort());
  });

  it('a delete of a file edited on disk before the kill: the edit wins', async () => {
    await writeFile(join(root, 'a.bin'), '#k1#');
    crashedWith([del('/a.bin', versionAt('a.bin'))]);
    await writeFile(join(root, 'a.bin'), '#k1##k7#');
    expect(await everything()).toEqual({ '/a.bin': '#k1##k7#' });
  });

  it('a write over a file edited on disk before the kill: both kept', async () => {
    await writeFile(join(root, 'a.bin'), '#k1#');
    crashedWith([put('/a.bin', '#k1##k2#', versionAt('a.bin'))]);
    await writeFile(join(root, 'a.bin'), '#k1##k7#');
    expect(Object.values(await everything()).sort()).toEqual(['#k1##k2#', '#k1##k7#']);
  });
});

describe('a half-written outside file found by a persist', () => {
  it('a file another program has just created (empty, its write still to come) is not renamed over', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class SlowDisk extends DiskDriver {
      override async write(path: string, content: Uint8Array, condition?: VersionCondition) {
        await gate;
        return super.write(path, content, condition);
      }
    }
    const fs = await servers.start({ journalPath: journalPath(), configs: [{ base: '/', driver: new SlowDisk({ root, fsync: false }), default: true }] });
    await fs.writeFile('/docs/blob.bin', '#k1#'); // acknowledged; its persist (a new file: at once) is held back
    const real = join(root, 'docs/blob.bin');
    const editor = await open(real, 'wx'); // another program creates the file (open, then write) ...
    const created = lstatSync(real).ino;
    release(); // ... our persist finds it there (ESTALE) and checks the disk at once
    // Without the 50 ms rule (Persister.check) the check took the empty file as the outside version and renamed ours over it within a few ms.
    const deadline = Date.now() + 10;
    while (Date.now() < deadline && lstatSync(real).ino === created) await new Promise((resolve) => setTimeout(resolve, 1));
    await editor.write('#k7##k8#'); // ... and writes it, a moment later
    await editor.close();
    await fs.flushAll();
    await fs.flushAll();
    const contents: string[] = [];
    for (const path of await fs.listFiles()) contents.push((await fs.readFile(path)) as string);
    expect(contents.sort()).toEqual(['#k1#', '#k7##k8#']);
  });

  it('an in-place save (truncate, then write) over a file with a pending update is not renamed over mid-save', async () => {
    const fs = await servers.start({ ...onDisk(), debounceMs: 60_000 });
    await fs.writeFile('/docs/blob.bin', '#k1#');
    await fs.flushAll();
    await fs.writeFile('/docs/blob.bin', '#k1##k2#'); // acknowledged, waiting for its debounce
    const real = join(root, 'docs/blob.bin');
    const editor = await open(real, 'r+');
    const saved = Buffer.concat([await editor.readFile(), Buffer.from('#k7#')]);
    const inode = lstatSync(real).ino;
    await editor.truncate(0); // an editor's plain save: truncate ...
    const flushed = fs.flushAll(); // the persist finds another version (empty) and checks at once
    const deadline = Date.now() + 10;
    while (Date.now() < deadline && lstatSync(real).ino === inode) await new Promise((resolve) => setTimeout(resolve, 1));
    await editor.write(saved, 0, saved.byteLength, 0); // ... then write
    await editor.close();
    await flushed;
    await fs.flushAll();
    const contents: string[] = [];
    for (const path of await fs.listFiles()) contents.push((await fs.readFile(path)) as string);
    expect(contents).toContain('#k1##k7#');
    expect(contents).toContain('#k1##k2#');
  });
});
