import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import type { PersistenceDriver } from '../../persistence/drivers/types.js';
import { isScopeFsError, type ErrorCode } from '../../src/errors.js';

// Pass-through wrapper so a test can prove `list` never opens a file.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, open: vi.fn(real.open), readFile: vi.fn(real.readFile) };
});

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const decode = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
const allByteValues = () => Uint8Array.from({ length: 512 }, (_, i) => i % 256);

async function expectCode(promise: Promise<unknown>, code: ErrorCode, pathPart?: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isScopeFsError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (pathPart !== undefined) expect((err as Error).message).toContain(pathPart);
}

const tempDirs: string[] = [];
async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `scopefs-${label}-`));
  tempDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const drivers: Array<[string, () => Promise<PersistenceDriver>]> = [
  ['MemoryDriver', async () => new MemoryDriver()],
  ['DiskDriver', async () => new DiskDriver({ root: await tempDir('disk') })],
];

describe.each(drivers)('%s: driver contract', (_name, makeDriver) => {
  let driver: PersistenceDriver;
  beforeEach(async () => {
    driver = await makeDriver();
  });

  it('round-trips text, empty, whitespace-only and binary content exactly', async () => {
    const random = new Uint8Array(randomBytes(256 * 1024));
    const cases: Record<string, Uint8Array> = {
      '/a.md': text('héllo wörld\n'),
      '/empty.txt': new Uint8Array(0),
      '/blank.txt': text(' \n\t \r\n'),
      '/bytes.bin': allByteValues(),
      '/deep/er/random.bin': random,
    };
    for (const [path, bytes] of Object.entries(cases)) await driver.write(path, bytes);
    for (const [path, bytes] of Object.entries(cases)) {
      expect(Buffer.from((await driver.load(path))!).equals(Buffer.from(bytes)), path).toBe(true);
    }
  });

  it('returns null for a missing file, including under a missing directory', async () => {
    expect(await driver.load('/nope.md')).toBeNull();
    expect(await driver.load('/no/such/dir/file.md')).toBeNull();
  });

  it('replaces content on overwrite', async () => {
    await driver.write('/a.md', text('first, and longer'));
    await driver.write('/a.md', text('second'));
    expect(decode(await driver.load('/a.md'))).toBe('second');
  });

  it('keeps its own copy of the bytes', async () => {
    const bytes = text('original');
    await driver.write('/a.md', bytes);
    bytes[0] = 0x58;
    const loaded = (await driver.load('/a.md'))!;
    loaded[1] = 0x58;
    expect(decode(await driver.load('/a.md'))).toBe('original');
  });

  it('lists metadata under a prefix, by directory boundary', async () => {
    await driver.write('/a/one.md', text('1'));
    await driver.write('/a/sub/two.md', text('22'));
    await driver.write('/ab/three.md', text('333'));
    await driver.write('/top.md', new Uint8Array(0));

    const all = await driver.list();
    expect(all.map((m) => m.path).sort()).toEqual(['/a/one.md', '/a/sub/two.md', '/ab/three.md', '/top.md']);
    const two = all.find((m) => m.path === '/a/sub/two.md')!;
    expect(two.size).toBe(2);
    expect(two.modifiedAt).toBeGreaterThan(0);
    expect(two.createdAt).toBeGreaterThan(0);

    for (const prefix of ['/a', '/a/']) {
      expect((await driver.list(prefix)).map((m) => m.path).sort()).toEqual(['/a/one.md', '/a/sub/two.md']);
    }
    expect(await driver.list('/missing')).toEqual([]);
  });

  it('deletes idempotently', async () => {
    await driver.write('/a/b.md', text('x'));
    await driver.delete('/a/b.md');
    await driver.delete('/a/b.md');
    await driver.delete('/never/existed.md');
    expect(await driver.load('/a/b.md')).toBeNull();
    expect(await driver.list()).toEqual([]);
  });

  it('moves a file into a directory that does not exist yet', async () => {
    await driver.write('/from/a.md', text('moving'));
    await driver.move!('/from/a.md', '/to/new/dir/b.md');
    expect(decode(await driver.load('/to/new/dir/b.md'))).toBe('moving');
    expect(await driver.load('/from/a.md')).toBeNull();
    expect((await driver.list()).map((m) => m.path)).toEqual(['/to/new/dir/b.md']);
  });

  it('fails to move a missing file with ENOENT', async () => {
    await expectCode(driver.move!('/ghost.md', '/b.md'), 'ENOENT', '/ghost.md');
  });

  it('writes a batch', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ path: `/batch/${i}.txt`, content: text(`n${i}`) }));
    await driver.writeMany!(items);
    for (const item of items) expect(decode(await driver.load(item.path))).toBe(decode(item.content));
  });

  it.each([
    ['relative', 'a.md'],
    ['parent segment', '/../escape.md'],
    ['nested parent segment', '/a/../../escape.md'],
    ['dot segment', '/a/./b.md'],
    ['NUL byte', '/a\u0000b.md'],
    ['backslash traversal', '/a\\..\\..\\b.md'],
    ['empty segment', '/a//b.md'],
    ['root', '/'],
  ])('rejects a %s path on every operation with EINVAL', async (_label, bad) => {
    await expectCode(driver.write(bad, text('x')), 'EINVAL');
    await expectCode(driver.load(bad), 'EINVAL');
    await expectCode(driver.delete(bad), 'EINVAL');
    await expectCode(driver.move!(bad, '/ok.md'), 'EINVAL');
    await expectCode(driver.move!('/ok.md', bad), 'EINVAL');
  });

  it('rejects a traversal prefix when listing', async () => {
    await expectCode(driver.list('/../'), 'EINVAL');
  });
});

describe('MemoryDriver: test hooks', () => {
  it('counts successful operations, each batch item as one write', async () => {
    const driver = new MemoryDriver();
    await driver.write('/a.md', text('a'));
    await driver.writeMany([
      { path: '/b.md', content: text('b') },
      { path: '/c.md', content: text('c') },
    ]);
    await driver.load('/a.md');
    await driver.load('/missing.md');
    await driver.move('/a.md', '/d.md');
    await driver.delete('/b.md');
    await driver.list();
    expect([driver.writes, driver.batches, driver.loads, driver.moves, driver.deletes, driver.lists]).toEqual([
      3, 1, 2, 1, 1, 1,
    ]);
    expect(driver.events).toEqual([
      { op: 'write', path: '/a.md' },
      { op: 'write', path: '/b.md' },
      { op: 'write', path: '/c.md' },
      { op: 'move', from: '/a.md', to: '/d.md' },
      { op: 'delete', path: '/b.md' },
    ]);
  });

  it('fails the next N calls of one operation, then recovers', async () => {
    const driver = new MemoryDriver();
    const boom = new Error('disk on fire');
    driver.failNext('write', 2, boom);
    await expect(driver.write('/a.md', text('1'))).rejects.toBe(boom);
    await expect(driver.write('/a.md', text('2'))).rejects.toBe(boom);
    await driver.write('/a.md', text('3'));
    expect(driver.peekText('/a.md')).toBe('3');
    expect([driver.writes, driver.failures]).toEqual([1, 2]);
  });

  it('injects a default error naming the operation and path, only for that operation', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/a.md': 'seeded' });
    driver.failNext('load');
    await expect(driver.load('/a.md')).rejects.toThrow(/load.*\/a\.md/);
    expect(decode(await driver.load('/a.md'))).toBe('seeded');
    driver.failNext('delete');
    await driver.write('/b.md', text('unaffected'));
    await expect(driver.delete('/b.md')).rejects.toThrow(/delete/);
    expect(driver.has('/b.md')).toBe(true);
  });

  it('holds an operation until released', async () => {
    const driver = new MemoryDriver();
    const release = driver.block('write');
    let done = false;
    const pending = driver.write('/a.md', text('x')).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    expect(driver.has('/a.md')).toBe(false);
    release();
    await pending;
    expect(driver.peekText('/a.md')).toBe('x');
  });

  it('seeds and peeks without touching the counters', () => {
    const driver = new MemoryDriver({ name: 'mem-test' });
    driver.seed({ '/x.md': 'x', '/y.bin': new Uint8Array([0, 255]) });
    expect(driver.paths()).toEqual(['/x.md', '/y.bin']);
    expect(driver.peek('/y.bin')).toEqual(new Uint8Array([0, 255]));
    expect([driver.name, driver.writes, driver.loads]).toEqual(['mem-test', 0, 0]);
  });
});

describe('DiskDriver', () => {
  let root: string;
  let outside: string;
  let driver: DiskDriver;
  beforeEach(async () => {
    root = await tempDir('root');
    outside = await tempDir('outside');
    driver = new DiskDriver({ root });
  });

  it('maps virtual paths to files under the root, byte for byte', async () => {
    const bytes = allByteValues();
    await driver.write('/docs/notes/a.bin', bytes);
    await driver.write('/%2e%2e/x.md', text('a literal name, not a traversal'));
    expect((await readFile(join(root, 'docs', 'notes', 'a.bin'))).equals(Buffer.from(bytes))).toBe(true);
    expect(await readFile(join(root, '%2e%2e', 'x.md'), 'utf8')).toBe('a literal name, not a traversal');
  });

  it('creates a missing root and works without fsync', async () => {
    const fresh = join(root, 'not', 'yet');
    const fast = new DiskDriver({ root: fresh, fsync: false });
    await fast.write('/a.md', text('quick'));
    expect(await readFile(join(fresh, 'a.md'), 'utf8')).toBe('quick');
  });

  it('never lets a reader see a partially written file', async () => {
    const a = Buffer.alloc(4 * 1024 * 1024, 'a');
    const b = Buffer.alloc(3 * 1024 * 1024, 'b');
    await driver.write('/big.txt', a);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 12; i++) await driver.write('/big.txt', i % 2 ? a : b);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const seen = Buffer.from((await driver.load('/big.txt'))!);
      expect(seen.equals(a) || seen.equals(b), `torn read of ${seen.length} bytes`).toBe(true);
      reads += 1;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('leaves no temp files in the tree and hides engine state from list', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => driver.write(`/d/f${i}.md`, text(`${i}`))));
    expect((await readdir(join(root, 'd'))).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}.md`).sort());
    await writeFile(join(root, '.scopefs', 'journal.log'), 'engine state');
    expect((await driver.list()).map((m) => m.path).sort()).toHaveLength(10);
    expect(await readdir(join(root, '.scopefs', 'tmp'))).toEqual([]);
  });

  it('refuses to touch the reserved /.scopefs/ directory', async () => {
    await expectCode(driver.write('/.scopefs/journal.log', text('x')), 'EINVAL', '.scopefs');
    await expectCode(driver.load('/.scopefs/journal.log'), 'EINVAL');
    await expectCode(driver.list('/.scopefs'), 'EINVAL');
  });

  it('sweeps temp files left by a dead process, not those of a live one', async () => {
    await driver.write('/a.md', text('starts the root'));
    const deadPid = await pidOfExitedProcess();
    const tmp = join(root, '.scopefs', 'tmp');
    await writeFile(join(tmp, `${deadPid}-1-abcdef`), 'half a write');
    await writeFile(join(tmp, `${process.pid}-99-abcdef`), 'in flight');
    const restarted = new DiskDriver({ root });
    expect((await restarted.list()).map((m) => m.path)).toEqual(['/a.md']);
    expect(await readdir(tmp)).toEqual([`${process.pid}-99-abcdef`]);
  });

  it('refuses a symlinked directory that leads outside the root', async () => {
    await writeFile(join(outside, 'secret.md'), 'secret');
    await mkdir(root, { recursive: true });
    await symlink(outside, join(root, 'link'));
    await expectCode(driver.write('/link/x.md', text('x')), 'EINVAL', '/link');
    await expectCode(driver.load('/link/secret.md'), 'EINVAL', 'symbolic link');
    await expectCode(driver.delete('/link/secret.md'), 'EINVAL');
    await expectCode(driver.move!('/link/secret.md', '/stolen.md'), 'EINVAL');
    await driver.write('/mine.md', text('mine'));
    await expectCode(driver.move!('/mine.md', '/link/planted.md'), 'EINVAL');
    await expectCode(driver.list('/link'), 'EINVAL');
    expect((await driver.list()).map((m) => m.path)).toEqual(['/mine.md']);
    expect((await readdir(outside)).sort()).toEqual(['secret.md']);
    expect(await readFile(join(outside, 'secret.md'), 'utf8')).toBe('secret');
  });

  it('refuses a symlinked file that leads outside the root', async () => {
    await writeFile(join(outside, 'secret.md'), 'secret');
    await symlink(join(outside, 'secret.md'), join(root, 'evil.md'));
    await expectCode(driver.load('/evil.md'), 'EINVAL', '/evil.md');
    await expectCode(driver.write('/evil.md', text('overwritten')), 'EINVAL');
    await expectCode(driver.delete('/evil.md'), 'EINVAL');
    expect(await driver.list()).toEqual([]);
    expect(await readFile(join(outside, 'secret.md'), 'utf8')).toBe('secret');
  });

  it('refuses links that stay inside the root too (it never follows links)', async () => {
    await driver.write('/real/a.md', text('a'));
    await symlink(join(root, 'real'), join(root, 'alias'));
    await expectCode(driver.load('/alias/a.md'), 'EINVAL');
    expect((await driver.list()).map((m) => m.path)).toEqual(['/real/a.md']);
  });

  it('lists without opening or reading any file', async () => {
    await driver.write('/a.md', text('aaa'));
    await driver.write('/b/c.md', text('cc'));
    vi.mocked(fsp.open).mockClear();
    vi.mocked(fsp.readFile).mockClear();
    const listed = await driver.list();
    expect(listed.map((m) => [m.path, m.size]).sort()).toEqual([
      ['/a.md', 3],
      ['/b/c.md', 2],
    ]);
    expect(vi.mocked(fsp.open)).not.toHaveBeenCalled();
    expect(vi.mocked(fsp.readFile)).not.toHaveBeenCalled();
  });

  it('skips names on disk that are not valid virtual paths', async () => {
    await writeFile(join(root, ' padded.md'), 'x');
    await writeFile(join(root, 'line\nbreak.md'), 'x');
    await writeFile(join(root, 'fine.md'), 'x');
    expect((await driver.list()).map((m) => m.path)).toEqual(['/fine.md']);
  });

  it('removes directories a delete or move leaves empty, but never the root', async () => {
    await driver.write('/a/b/c/one.md', text('1'));
    await driver.write('/a/keep.md', text('k'));
    await driver.delete('/a/b/c/one.md');
    expect(await readdir(join(root, 'a'))).toEqual(['keep.md']);
    await driver.move('/a/keep.md', '/z/keep.md');
    expect((await readdir(root)).sort()).toEqual(['.scopefs', 'z']);
    await driver.delete('/z/keep.md');
    expect((await stat(root)).isDirectory()).toBe(true);
    expect(await readdir(root)).toEqual(['.scopefs']);
  });

  it('reports an I/O failure as EIO naming the path', async () => {
    await driver.write('/file.md', text('a file, not a directory'));
    await expectCode(driver.write('/file.md/child.md', text('x')), 'EIO', '/file.md/child.md');
  });
});

/** The pid of a child process that has already exited (so it is not alive). */
function pidOfExitedProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve(child.pid!));
  });
}
