/**
 * Replacing or deleting a large file on disk: the disk driver holds the old
 * file open across the synchronous check-and-rename (or unlink), so the
 * kernel frees its data when that handle closes in the thread pool, not
 * inside the system call on the event loop. The compare-and-swap semantics
 * stay as they were.
 */
import { lstatSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdWhileReplaced, letGo, versionOf } from '../../persistence/drivers/disk-io.js';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { isScopeFsError } from '../../src/errors.js';

const LARGE = 2 * 1024 * 1024;
let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'scopefs-replace-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

const versionAt = (name: string) => versionOf(lstatSync(join(dir, name), { bigint: true }));

describe('replacing a large file on disk', () => {
  it('holds the file the condition expects open, when it is large: the old bytes stay readable through the handle after the rename', async () => {
    const driver = new DiskDriver({ root: dir, fsync: false });
    const first = await driver.write('/big.bin', Buffer.alloc(LARGE, 1));
    const at = { virtual: '/big.bin', segments: ['big.bin'], real: join(dir, 'big.bin') };
    const held = await holdWhileReplaced(at, { ifVersion: first });
    expect(held).toBeDefined();
    await driver.write('/big.bin', Buffer.alloc(LARGE, 2), { ifVersion: first });
    const { buffer } = await held!.read(Buffer.alloc(4), 0, 4, 0);
    expect([...buffer]).toEqual([1, 1, 1, 1]); // the replaced inode is alive until the handle goes
    letGo(held);
    expect((await readFile(join(dir, 'big.bin')))[0]).toBe(2);

    const small = await driver.write('/small.txt', Buffer.from('small'));
    const smallAt = { virtual: '/small.txt', segments: ['small.txt'], real: join(dir, 'small.txt') };
    expect(await holdWhileReplaced(smallAt, { ifVersion: small })).toBeUndefined();
    expect(await holdWhileReplaced(smallAt, { ifVersion: null })).toBeUndefined();
  });

  it('still refuses with ESTALE, changing nothing, when the large file changed on disk', async () => {
    const driver = new DiskDriver({ root: dir, fsync: false });
    const first = await driver.write('/big.bin', Buffer.alloc(LARGE, 1));
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(LARGE + 1, 9)); // an outside edit
    const outside = versionAt('big.bin');
    const refused = await driver.write('/big.bin', Buffer.alloc(LARGE, 2), { ifVersion: first }).catch((err: unknown) => err);
    expect(isScopeFsError(refused, 'ESTALE')).toBe(true);
    expect(versionAt('big.bin')).toBe(outside);
    const refusedDelete = await driver.delete('/big.bin', { ifVersion: first }).catch((err: unknown) => err);
    expect(isScopeFsError(refusedDelete, 'ESTALE')).toBe(true);
    expect((await readFile(join(dir, 'big.bin'))).byteLength).toBe(LARGE + 1);
  });

  it('replaces and deletes a large file, leaving nothing behind', async () => {
    const driver = new DiskDriver({ root: dir, fsync: false });
    const first = await driver.write('/big.bin', Buffer.alloc(LARGE, 1));
    const second = await driver.write('/big.bin', Buffer.alloc(LARGE, 2), { ifVersion: first });
    expect(versionAt('big.bin')).toBe(second);
    await driver.delete('/big.bin', { ifVersion: second });
    expect(await readdir(dir)).toEqual(['.scopefs']);
    expect(await readdir(join(dir, '.scopefs', 'tmp'))).toEqual([]);
  });
});
