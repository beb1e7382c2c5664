/**
 * A disk check (what the watcher asks for an outside edit) goes ahead of the
 * persister's queued writes to other files: an edit made while a pull's
 * thousands of writes are queued is looked at in milliseconds, not once they
 * have all landed. Writes are held at a gate here, released one at a time.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import type { VersionCondition, VersionTag } from '../../persistence/drivers/types.js';
import { Servers, tempDir, until } from './helpers.js';

/** A disk whose writes wait until the test lets them through, one per `release()`. */
class GatedDisk extends DiskDriver {
  started = 0;
  private readonly waiting: Array<() => void> = [];

  override async write(path: string, content: Uint8Array, condition?: VersionCondition): Promise<VersionTag> {
    this.started++;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.write(path, content, condition);
  }

  get held(): number {
    return this.waiting.length;
  }

  release(): void {
    this.waiting.shift()?.();
  }

  releaseAll(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await servers.stopAll();
  await dir.remove();
});

describe('disk checks and queued writes', () => {
  it('an outside edit is checked after at most a few of 200 queued writes, not after all of them', async () => {
    const root = join(dir.path, 'root');
    const driver = new GatedDisk({ root, fsync: false });
    const fs = await servers.start({ durability: 'debounced', journalPath: join(root, '.scopefs', 'journal'), configs: [{ base: '/', driver, default: true }] });
    await writeFile(join(root, 'outside.md'), 'written by another program\n');
    // One change, one mailbox step: once it is answered, all 200 writes are queued in the persister.
    const items = Array.from({ length: 200 }, (_, i) => ({ path: `/pulled-${i}.md`, content: `pulled ${i}\n` }));
    await fs.applyBatch(items);
    await until(() => driver.held > 0);
    let checked = false;
    const check = fs.checkDisk('/outside.md').then(() => (checked = true));
    await fs.fileExists('/outside.md'); // the check_disk call was handled before this one: the check is queued
    // Each round frees one slot of the 16 running writes and waits until the queue gave it to the check or to a write.
    let released = 0;
    while (!checked && released < items.length) {
      const started = driver.started;
      driver.release();
      released++;
      await until(() => checked || driver.started > started || driver.started === items.length);
    }
    await check;
    expect(await fs.readFile('/outside.md')).toBe('written by another program\n');
    // The check takes the first slot that frees up; it never waits for the 184 writes queued behind the running ones.
    expect(released).toBeLessThanOrEqual(2);
    driver.releaseAll();
    const flushing = fs.flushAll();
    await until(() => (driver.releaseAll(), driver.started === items.length));
    driver.releaseAll();
    expect((await flushing).failed).toEqual([]);
  });
});
