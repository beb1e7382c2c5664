import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { ScopeFsError } from '../../src/errors.js';
import { Servers } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

async function rejection(promise: Promise<unknown>): Promise<ScopeFsError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ScopeFsError);
  return error as ScopeFsError;
}

describe('FileSystemServer: typed errors', () => {
  it.each([
    ['relative', 'a/b.md'],
    ['dot-dot segment', '/a/../b.md'],
    ['dot segment', '/a/./b.md'],
    ['empty segment', '/a//b.md'],
    ['NUL', '/a\u0000b.md'],
    ['control character', '/a\u0007b.md'],
    ['leading whitespace in a segment', '/a/ b.md'],
    ['trailing whitespace in a segment', '/a /b.md'],
    ['over-long path', `/${'x/'.repeat(2100)}f`],
    ['over-long segment', `/${'x'.repeat(300)}`],
    ['trailing slash', '/a/'],
    ['the root', '/'],
  ])('rejects a %s path with EINVAL naming it, and keeps serving', async (_kind, path) => {
    const fs = await servers.start();
    const error = await rejection(fs.writeFile(path, 'x'));
    expect(error.code).toBe('EINVAL');
    expect(error.message).toContain(JSON.stringify(path.slice(0, 80)).slice(0, 20));
    for (const call of [fs.readFile(path), fs.deleteFile(path), fs.stat(path), fs.appendFile(path, 'x')]) {
      expect((await rejection(call)).code).toBe('EINVAL');
    }
    expect(fs.status).toBe('running');
    await fs.writeFile('/ok.md', 'still fine');
    expect(await fs.readFile('/ok.md')).toBe('still fine');
  });

  it('rejects non-string paths and bad content types with EINVAL', async () => {
    const fs = await servers.start();
    expect((await rejection(fs.writeFile(42 as unknown as string, 'x'))).code).toBe('EINVAL');
    expect((await rejection(fs.writeFile('/a', { nope: 1 } as unknown as string))).code).toBe('EINVAL');
    expect((await rejection(fs.readFile('/a', { encoding: 'latin1' as 'utf8' }))).code).toBe('EINVAL');
  });

  it('ENOENT for reads, stats, deletes, edits and moves of missing files', async () => {
    const fs = await servers.start();
    for (const call of [fs.readFile('/none'), fs.stat('/none'), fs.deleteFile('/none'), fs.editFile('/none', 'a', 'b'), fs.moveFile('/none', '/x')]) {
      const error = await rejection(call);
      expect(error.code).toBe('ENOENT');
      expect(error.path).toBe('/none');
    }
  });

  it('EFBIG for content over maxFileBytes, per server and per config', async () => {
    const driver = new MemoryDriver();
    const fs = await servers.start({ maxFileBytes: 10, configs: [{ base: '/small', driver, maxFileBytes: 4 }] });
    expect((await rejection(fs.writeFile('/big.txt', '12345678901'))).code).toBe('EFBIG');
    await fs.writeFile('/ok.txt', '1234567890');
    const error = await rejection(fs.writeFile('/small/x.txt', '12345'));
    expect(error).toMatchObject({ code: 'EFBIG', path: '/small/x.txt' });
    await fs.writeFile('/small/x.txt', '1234');
    expect((await rejection(fs.appendFile('/small/x.txt', '5'))).code).toBe('EFBIG');
    expect(await fs.readFile('/small/x.txt')).toBe('1234');
  });

  it('editFile with zero or several matches: EINVAL naming the path and the count', async () => {
    const fs = await servers.start();
    await fs.writeFile('/e.md', 'one two two');
    const none = await rejection(fs.editFile('/e.md', 'three', 'x'));
    expect(none).toMatchObject({ code: 'EINVAL', path: '/e.md' });
    expect(none.message).toContain('found 0');
    const two = await rejection(fs.editFile('/e.md', 'two', 'x'));
    expect(two.message).toContain('"/e.md"');
    expect(two.message).toContain('found 2');
    expect((await rejection(fs.editFile('/e.md', '', 'x'))).code).toBe('EINVAL');
    expect(await fs.readFile('/e.md')).toBe('one two two');
  });

  it('editFile refuses binary content', async () => {
    const fs = await servers.start();
    await fs.writeFile('/b.bin', new Uint8Array([0xff, 0xfe, 0x41]));
    expect((await rejection(fs.editFile('/b.bin', 'A', 'B'))).code).toBe('EINVAL');
  });

  it('EROFS for every change under a readonly config; reads still work', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/ref.md': 'reference' });
    const fs = await servers.start({ configs: [{ base: '/ro', driver, readonly: true }] });
    expect(await fs.readFile('/ro/ref.md')).toBe('reference');
    await fs.writeFile('/rw.md', 'x');
    for (const call of [
      fs.writeFile('/ro/new.md', 'x'),
      fs.writeFile('/ro/ref.md', 'x'),
      fs.appendFile('/ro/ref.md', 'x'),
      fs.editFile('/ro/ref.md', 'reference', 'x'),
      fs.deleteFile('/ro/ref.md'),
      fs.moveFile('/ro/ref.md', '/elsewhere.md'),
      fs.moveFile('/rw.md', '/ro/rw.md'),
    ]) {
      expect((await rejection(call)).code).toBe('EROFS');
    }
    expect(driver.writes + driver.deletes).toBe(0);
    expect(await fs.listFiles()).toEqual(['/ro/ref.md', '/rw.md']);
  });

  it('EEXIST when moving onto an existing file, for files and prefixes, changing nothing', async () => {
    const fs = await servers.start();
    await fs.writeFile('/a.md', 'a');
    await fs.writeFile('/b.md', 'b');
    expect(await rejection(fs.moveFile('/a.md', '/b.md'))).toMatchObject({ code: 'EEXIST', path: '/b.md' });
    await fs.writeFile('/src/x.md', 'x');
    await fs.writeFile('/src/y.md', 'y');
    await fs.writeFile('/dst/y.md', 'taken');
    expect((await rejection(fs.moveFile('/src', '/dst'))).code).toBe('EEXIST');
    expect(await fs.listFiles()).toEqual(['/a.md', '/b.md', '/dst/y.md', '/src/x.md', '/src/y.md']);
  });

  it('refuses a file where a directory is, a file under a file, and a move into itself', async () => {
    const fs = await servers.start();
    await fs.writeFile('/dir/a.md', 'a');
    expect((await rejection(fs.writeFile('/dir', 'x'))).code).toBe('EEXIST');
    expect((await rejection(fs.writeFile('/dir/a.md/b.md', 'x'))).code).toBe('EINVAL');
    expect((await rejection(fs.moveFile('/dir', '/dir/inner'))).code).toBe('EINVAL');
    expect((await rejection(fs.moveFile('/', '/x'))).code).toBe('EINVAL');
  });

  it('ESTALE when the revision moved on, for writes, deletes and moves', async () => {
    const fs = await servers.start();
    const first = await fs.writeFile('/s.md', 'one');
    await fs.writeFile('/s.md', 'two');
    const stale = await rejection(fs.writeFile('/s.md', 'three', { ifRevision: first.revision }));
    expect(stale).toMatchObject({ code: 'ESTALE', path: '/s.md' });
    expect((await rejection(fs.writeFile('/s.md', 'x', { ifRevision: 0 }))).code).toBe('ESTALE');
    expect((await rejection(fs.writeFile('/new.md', 'x', { ifRevision: 5 }))).code).toBe('ESTALE');
    expect((await rejection(fs.deleteFile('/s.md', { ifRevision: first.revision }))).code).toBe('ESTALE');
    expect((await rejection(fs.moveFile('/s.md', '/t.md', { ifRevision: first.revision }))).code).toBe('ESTALE');
    expect((await rejection(fs.appendFile('/s.md', '!', { ifRevision: first.revision }))).code).toBe('ESTALE');
    expect(await fs.readFile('/s.md')).toBe('two');
  });

  it('rejects invalid persistence configs', async () => {
    const driver = new MemoryDriver();
    await expect(servers.start({ configs: [{ base: 'relative', driver }] })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(servers.start({ configs: [{ base: '/a', driver: undefined as unknown as MemoryDriver }] })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(servers.start({ configs: [{ base: '/a', driver }, { base: '/a/', driver }] })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(servers.start({ durability: 'sometimes' as 'journal' })).rejects.toMatchObject({ code: 'EINVAL' });
    const fs = await servers.start({ configs: [{ base: '/', driver, default: true }] });
    await expect(fs.registerPersistence({ base: '/', driver, default: true })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fs.registerPersistence({ base: '/x', driver, debounceMs: -1 })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
