import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { sha256 } from '../../src/content.js';
import type { FileSystemServerOptions } from '../../src/fs/file-system-server.js';
import { Servers, tempDir } from './helpers.js';

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await servers.stopAll();
  await dir.remove();
});

function onDisk(extra: FileSystemServerOptions = {}): FileSystemServerOptions {
  const root = join(dir.path, 'root');
  return { journalPath: join(root, '.scopefs', 'journal'), configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }], ...extra };
}

describe('FileSystemServer on a disk root', () => {
  it('round-trips empty, whitespace-only and binary content through a restart, byte for byte', async () => {
    const binary = new Uint8Array(1024).map((_, i) => (i * 13) % 256);
    const fs = await servers.start(onDisk());
    await fs.writeFile('/empty.txt', '');
    await fs.writeFile('/blank.txt', '  \n\t\n');
    await fs.writeFile('/data/blob.bin', binary);
    await fs.stop();
    expect(readFileSync(join(dir.path, 'root', 'data', 'blob.bin'))).toEqual(Buffer.from(binary));
    const again = await servers.start(onDisk());
    expect(await again.listFiles()).toEqual(['/blank.txt', '/data/blob.bin', '/empty.txt']); // the journal is not a file
    expect(await again.readFile('/empty.txt')).toBe('');
    expect(await again.readFile('/blank.txt')).toBe('  \n\t\n');
    expect(await again.readFile('/data/blob.bin', { encoding: 'bytes' })).toEqual(binary);
    expect((await again.stat('/data/blob.bin')).checksum).toBe(sha256(binary));
  });

  it('a moved directory leaves no old copy on disk after a restart', async () => {
    const fs = await servers.start(onDisk({ debounceMs: 60_000 }));
    await fs.writeFile('/old/a.md', 'a');
    await fs.writeFile('/old/b.md', 'b');
    await fs.flushAll();
    await fs.writeFile('/old/a.md', 'a2'); // pending on its timer while it moves
    await fs.moveFile('/old', '/new');
    await fs.stop();
    expect(existsSync(join(dir.path, 'root', 'old', 'a.md'))).toBe(false);
    expect(existsSync(join(dir.path, 'root', 'old', 'b.md'))).toBe(false);
    const again = await servers.start(onDisk());
    expect(await again.listFiles()).toEqual(['/new/a.md', '/new/b.md']);
    expect(await again.readFile('/new/a.md')).toBe('a2');
  });
});
