/**
 * Large writes are copied in chunks before the actor step and hashed after
 * the acknowledgement (src/fs/large-content.ts): the stored bytes and
 * checksum are right wherever a checksum is read (reads, the history, the
 * disk base), call order is kept, the event loop keeps turning meanwhile,
 * and an acknowledged large write survives SIGKILL.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { openMemoryHistory } from '../../persistence/history/open-history.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { startScope } from '../../supervisors/scope/scopes.js';
import { LARGE_CONTENT_BYTES, ownLargeContent } from '../../src/fs/large-content.js';
import { sideDirOf } from '../../src/fs/side-files.js';
import { Servers, tempDir } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/large-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const servers = new Servers();
afterEach(() => servers.stopAll());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The side files a journal's records may reference (not those being unlinked in the background). */
const sideFilesOf = async (journalPath: string) => (await readdir(sideDirOf(journalPath))).filter((name) => /^[0-9a-f]{32}$/.test(name));

/** The longest gap between ticks of a 1 ms interval while `work` runs. */
async function longestGap(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe('large writes', () => {
  it('stores a copy; its checksum arrives after the acknowledgement, and a read gives it at once', async () => {
    const { server } = await servers.withMemory();
    const content = Buffer.alloc(LARGE_CONTENT_BYTES + 12_345, 9);
    content[LARGE_CONTENT_BYTES] = 1;
    const expected = Buffer.from(content);
    const meta = await server.writeFile('/big.bin', content);
    content.fill(0); // the caller may reuse its array once the write settles
    expect(meta.checksum).toBeUndefined(); // the hash is not on the acknowledgement path
    const read = await server.readEntry('/big.bin', { encoding: 'bytes' });
    expect(read.meta.checksum).toBe(sha256(expected));
    expect(Buffer.from(read.content as Uint8Array).equals(expected)).toBe(true);
    const second = await server.writeFile('/other.bin', expected);
    expect(second.checksum).toBeUndefined();
    await expect.poll(async () => (await server.stat('/other.bin')).checksum).toBe(sha256(expected)); // without a read
  });

  it('records a large version in the history under its sha256, and persists it with a whole disk base', async () => {
    const dir = await tempDir();
    try {
      const root = join(dir.path, 'root');
      const history = openMemoryHistory();
      const server = await servers.start({ configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }], history: { store: history, scope: 's' } });
      const content = Buffer.alloc(LARGE_CONTENT_BYTES, 4);
      await server.writeFile('/big.bin', content);
      await server.flushAll();
      const versions = await server.history('/big.bin');
      expect(versions.map((v) => v.hash)).toEqual([sha256(content)]);
      // The disk base carries the hash: an outside edit of the persisted file is seen as one, not as an echo.
      await writeFile(join(root, 'big.bin'), 'edited outside');
      await server.checkDisk('/big.bin');
      expect(await server.readFile('/big.bin')).toBe('edited outside');
    } finally {
      await servers.stopAll();
      await dir.remove();
    }
  });

  it('syncs a large write whose hash is still on its way: the other instance gets the same bytes', async () => {
    const dir = await tempDir();
    const store = new MemoryStore();
    const start = (name: string) =>
      startScope({ scopeKey: ['large-sync', name, basename(dir.path)], root: join(dir.path, name), watch: false, audit: { enabled: false }, sync: { store, app: 'large', instanceId: name } });
    const [a, b] = [await start('a'), await start('b')];
    try {
      const content = Buffer.alloc(LARGE_CONTENT_BYTES + 7, 6);
      await a.fs.writeFile('/big.bin', content);
      await expect.poll(async () => (await b.fs.stat('/big.bin').catch(() => null))?.size).toBe(content.byteLength);
      expect(Buffer.from((await b.fs.readFile('/big.bin', { encoding: 'bytes' })) as Uint8Array).equals(content)).toBe(true);
      expect((await b.fs.readEntry('/big.bin', { encoding: 'bytes' })).meta.checksum).toBe(sha256(content));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await dir.remove();
    }
  });

  it('keeps call order: a small write made after a large one lands after it', async () => {
    const { server } = await servers.withMemory();
    const large = server.writeFile('/f.bin', Buffer.alloc(LARGE_CONTENT_BYTES * 2, 5));
    const small = server.writeFile('/f.bin', 'small');
    await Promise.all([large, small]);
    expect(await server.readFile('/f.bin')).toBe('small');
  });

  it('lets the event loop turn while copying and hashing (gap well below one synchronous copy and hash)', async () => {
    const source = Buffer.alloc(32 * 1024 * 1024, 3);
    const syncStart = performance.now();
    const copy = new Uint8Array(source);
    const syncChecksum = sha256(copy);
    const syncMs = performance.now() - syncStart;
    let owned: Awaited<ReturnType<typeof ownLargeContent>> | undefined;
    let checksum: string | undefined;
    const gap = await longestGap(async () => {
      owned = await ownLargeContent(source);
      checksum = await owned.content.checksum;
    });
    expect(checksum).toBe(syncChecksum);
    expect(gap).toBeLessThan(syncMs / 3);
  });

  it('an acknowledged large write survives SIGKILL with later writes in flight', async () => {
    const dir = await tempDir();
    try {
      const root = join(dir.path, 'root');
      const journalPath = join(dir.path, 'journal');
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, journalPath, '6'], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      let acked = 0;
      for await (const line of createInterface({ input: child.stdout! })) {
        acked = Number(line.split(' ')[1]);
        if (acked === 2) break;
      }
      child.kill('SIGKILL');
      await exited;
      // The records reference side files: the journal itself holds no 6 MiB content.
      expect((await stat(journalPath)).size).toBeLessThan(1024 * 1024);
      const server = await servers.start({ journalPath, configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }] });
      const content = Buffer.from(await server.readFile('/big.bin', { encoding: 'bytes' }));
      // Fill 2 was acknowledged; fill 3 may have made it into the journal before the kill, never a mix.
      expect(content.byteLength).toBe(6 * 1024 * 1024);
      expect([2, 3]).toContain(content[0]);
      expect(content.equals(Buffer.alloc(content.byteLength, content[0]))).toBe(true);
    } finally {
      await servers.stopAll();
      await dir.remove();
    }
  }, 60_000);

  it('in journal mode the record references a side file, removed once the file is persisted; a damaged one fails the start', async () => {
    const dir = await tempDir();
    try {
      const root = join(dir.path, 'root');
      const journalPath = join(dir.path, 'journal');
      const start = () => servers.start({ journalPath, debounceMs: 60_000, configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }] });
      const server = await start();
      await server.writeFile('/a.bin', Buffer.alloc(LARGE_CONTENT_BYTES, 1));
      const big = Buffer.alloc(LARGE_CONTENT_BYTES + 1, 2);
      await server.writeFile('/a.bin', big); // an update: waits a minute for the disk
      expect((await stat(journalPath)).size).toBeLessThan(64 * 1024);
      const sizes = await Promise.all((await sideFilesOf(journalPath)).map(async (name) => (await stat(join(sideDirOf(journalPath), name))).size));
      expect(sizes).toContain(big.byteLength); // beside the first write's, which the journal still references
      await server.flushAll();
      await server.writeFile('/small.txt', 'settle'); // settles the journal after the flush
      await server.flushAll();
      expect(await sideFilesOf(journalPath)).toEqual([]);
      expect(Buffer.from(await server.readFile('/a.bin', { encoding: 'bytes' })).equals(big)).toBe(true);

      // A record whose side file was damaged (nothing acknowledged may be silently dropped): the start says so.
      await server.writeFile('/a.bin', Buffer.alloc(LARGE_CONTENT_BYTES, 3));
      const [nextFile, ...others] = await sideFilesOf(journalPath);
      expect(others).toEqual([]);
      const copy = Buffer.from(await import('node:fs/promises').then((m) => m.readFile(journalPath)));
      await servers.stopAll();
      await writeFile(journalPath, copy); // the journal as it was before the clean stop
      await writeFile(join(sideDirOf(journalPath), nextFile!), 'damaged');
      await expect(start()).rejects.toMatchObject({ code: 'EIO' });
    } finally {
      await servers.stopAll();
      await dir.remove();
    }
  }, 60_000);
});
