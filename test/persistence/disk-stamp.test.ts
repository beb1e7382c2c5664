/**
 * stampOwnWrite: a file scopefs wrote carries a modification time no later
 * write can get, so a same-size in-place rewrite always changes the version
 * tag, even where the kernel stamps writes from a clock that ticks every few
 * milliseconds (the rewrite is simulated by stamping it with the time the
 * kernel gave scopefs's write, which such a clock may well repeat).
 */
import { lstatSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stampOwnWrite, versionOf } from '../../persistence/drivers/disk-io.js';
import { DiskDriver } from '../../persistence/drivers/disk.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'scopefs-stamp-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes `text` through a handle like the disk driver; answers the kernel's stamp and the version after stampOwnWrite. */
async function writeStamped(path: string, text: string, kernelStamp?: number) {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    if (kernelStamp !== undefined) await handle.utimes(kernelStamp, kernelStamp); // a filesystem keeping whole seconds
    const kernel = (await handle.stat({ bigint: true })).mtimeNs;
    await stampOwnWrite(handle);
    return { kernel, version: versionOf(await handle.stat({ bigint: true })), stamped: (await handle.stat({ bigint: true })).mtimeNs };
  } finally {
    await handle.close();
  }
}

describe('stampOwnWrite', () => {
  it('sets the modification time before the kernel\'s, so a same-size rewrite stamped with the kernel\'s time changes the version', async () => {
    const path = join(dir, 'f.md');
    const { kernel, version, stamped } = await writeStamped(path, 'written by scopefs\n');
    expect(stamped).toBeLessThan(kernel);
    expect(kernel - stamped).toBeLessThan(3_000n); // a microsecond, and the rounding of a double
    writeFileSync(path, 'edited in place!!!\n'); // same size, same inode
    const t = Number(kernel) / 1e9;
    utimesSync(path, t, t);
    const after = lstatSync(path, { bigint: true });
    expect(after.size).toBe(BigInt('written by scopefs\n'.length));
    expect(versionOf(after)).not.toBe(version);
  });

  it('goes back a whole second on a filesystem that keeps whole seconds', async () => {
    const { kernel, stamped } = await writeStamped(join(dir, 's.md'), 'x', 1_700_000_000);
    expect(kernel).toBe(1_700_000_000_000_000_000n);
    expect(stamped).toBe(1_699_999_999_000_000_000n);
  });

  it('is what the disk driver does to every file it writes', async () => {
    const driver = new DiskDriver({ root: dir, fsync: false });
    const version = await driver.write('/d.md', Buffer.from('driver'));
    const stats = lstatSync(join(dir, 'd.md'), { bigint: true });
    expect(versionOf(stats)).toBe(version);
    // The change time is the kernel's (the stamp, then the rename); the modification time lies before it.
    expect(stats.mtimeNs).toBeLessThan(stats.ctimeNs);
    expect(stats.mtimeNs % 1_000n).toBe(0n);
  });
});
