/**
 * applyBatch: several writes and deletes as one change. Every item is
 * checked before anything changes, the whole batch is one journal record
 * (a torn one replays none of it), and no reader sees part of it.
 */
import { appendFileSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { isScopeFsError } from '../../src/errors.js';
import { decodeJournal, encodeRecord } from '../../src/fs/journal-codec.js';
import type { BatchItem, FsEvent } from '../../src/types.js';
import { Servers, tempDir } from './helpers.js';

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => (dir = await tempDir()));
afterEach(async () => {
  await servers.stopAll();
  await dir.remove();
});

async function seeded(files: Record<string, string>, driver = new MemoryDriver()) {
  const journalPath = join(dir.path, 'journal');
  const fs = await servers.start({ journalPath, debounceMs: 60_000, configs: [{ base: '/', driver, default: true }] });
  for (const [path, content] of Object.entries(files)) await fs.writeFile(path, content);
  await fs.flushAll();
  return { fs, driver, journalPath };
}

async function snapshot(fs: Awaited<ReturnType<typeof seeded>>['fs']): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of await fs.listFiles('/')) files[path] = await fs.readFile(path);
  return files;
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isScopeFsError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('the batch was applied');
}

describe('applyBatch', () => {
  it('writes, creates and deletes in one step, answering every written file', async () => {
    const { fs, driver } = await seeded({ '/a.md': 'a', '/b.md': 'b' });
    const events: FsEvent[] = [];
    fs.subscribe((event) => void events.push(event));
    const result = await fs.applyBatch([
      { path: '/a.md', content: 'a2' },
      { path: '/new/c.md', content: new TextEncoder().encode('c') },
      { path: '/b.md', delete: true },
    ]);
    expect(result.written.map((meta) => [meta.path, meta.size])).toEqual([
      ['/a.md', 2],
      ['/new/c.md', 1],
    ]);
    expect(result.deleted).toEqual(['/b.md']);
    expect(await snapshot(fs)).toEqual({ '/a.md': 'a2', '/new/c.md': 'c' });
    expect(events.map((e) => `${e.type} ${'path' in e ? e.path : ''}`).sort()).toEqual(['file_deleted /b.md', 'file_updated /a.md', 'file_updated /new/c.md']);
    await fs.flushAll();
    expect(driver.paths().sort()).toEqual(['/a.md', '/new/c.md']);
  });

  it('changes nothing when any item is refused, and says which', async () => {
    const { fs } = await seeded({ '/a.md': 'a', '/b.md': 'b', '/dir/x.md': 'x' });
    const before = await snapshot(fs);
    const { revision } = await fs.stat('/b.md');
    const cases: Array<[BatchItem[], string, RegExp]> = [
      [[{ path: '/a.md', content: 'a2' }, { path: '/b.md', content: 'b2', ifRevision: revision + 1 }], 'ESTALE', /b\.md/],
      [[{ path: '/a.md', content: 'a2' }, { path: '/missing.md', delete: true }], 'ENOENT', /missing\.md/],
      [[{ path: '/a.md', content: 'a2' }, { path: '/a.md', content: 'again' }], 'EINVAL', /appears twice/],
      [[{ path: '/n.md', content: 'n' }, { path: '/n.md/under', content: 'u' }], 'EINVAL', /both the file "\/n\.md" and files under it/],
      [[{ path: '/c.md', content: 'c' }, { path: '/dir', content: 'onto a directory' }], 'EEXIST', /"\/dir" is a directory/],
      [[{ path: '/a.md/under', content: 'u' }], 'EINVAL', /"\/a\.md" is a file/],
      [[{ path: '/a.md' } as BatchItem], 'EINVAL', /needs content to write, or delete: true/],
      [[{ path: '/../escape', content: 'x' }], 'EINVAL', /invalid path/],
    ];
    for (const [items, code, message] of cases) {
      const refused = await refusal(fs.applyBatch(items));
      expect(refused.code, JSON.stringify(items)).toBe(code);
      expect(refused.message).toMatch(message);
      expect(await snapshot(fs)).toEqual(before);
    }
  });

  it('checks placement against the tree the batch leaves: a deleted file may become a directory, and back', async () => {
    const { fs } = await seeded({ '/a': 'file a', '/d/x.md': 'x', '/d/y.md': 'y' });
    await fs.applyBatch([
      { path: '/a', delete: true },
      { path: '/a/b.md', content: 'under a' },
      { path: '/d/x.md', delete: true },
      { path: '/d/y.md', delete: true },
      { path: '/d', content: 'd is a file now' },
    ]);
    expect(await snapshot(fs)).toEqual({ '/a/b.md': 'under a', '/d': 'd is a file now' });
    // Deleting only some of what is under a directory leaves it one.
    await fs.writeFile('/e/1.md', '1');
    await fs.writeFile('/e/2.md', '2');
    expect((await refusal(fs.applyBatch([{ path: '/e/1.md', delete: true }, { path: '/e', content: 'e' }]))).code).toBe('EEXIST');
  });

  it('refuses the whole batch when one path is locked by someone else', async () => {
    const { fs } = await seeded({ '/a.md': 'a', '/locked.md': 'l' });
    const lock = await fs.lock('/locked.md', { ttlMs: 60_000, owner: 'other' });
    expect((await refusal(fs.applyBatch([{ path: '/a.md', content: 'a2' }, { path: '/locked.md', content: 'l2' }]))).code).toBe('ELOCKED');
    expect(await fs.readFile('/a.md')).toBe('a');
    await fs.applyBatch([{ path: '/a.md', content: 'a2' }, { path: '/locked.md', content: 'l2' }], { lockToken: lock.token });
    expect(await snapshot(fs)).toEqual({ '/a.md': 'a2', '/locked.md': 'l2' });
  });

  it('a reader never sees part of a batch', async () => {
    const { fs } = await seeded({});
    const paths = Array.from({ length: 100 }, (_, i) => `/run/${i}.md`);
    for (let round = 0; round < 5; round++) {
      const batch = fs.applyBatch(paths.map((path) => ({ path, content: `round ${round}` })));
      const seen = await Promise.all(Array.from({ length: 20 }, () => fs.listEntries('/run')));
      await batch;
      for (const entries of seen) {
        expect([0, 100]).toContain(entries.length);
        // One step: every file holds this round's content, or every file the previous round's.
        expect(new Set(entries.map((entry) => entry.checksum)).size).toBeLessThanOrEqual(1);
      }
      const contents = new Set(await Promise.all(paths.map((path) => fs.readFile(path))));
      expect([...contents]).toEqual([`round ${round}`]);
    }
  });

  it('is one journal record: a crash replays all of it, a torn record none of it', async () => {
    const driver = new MemoryDriver();
    const { fs, journalPath } = await seeded({ '/keep.md': 'keep', '/gone.md': 'gone' }, driver);
    const release = driver.block('write');
    const releaseDeletes = driver.block('delete');
    try {
      const items: BatchItem[] = [
        { path: '/keep.md', content: 'kept v2' },
        { path: '/gone.md', delete: true },
        ...Array.from({ length: 20 }, (_, i) => ({ path: `/new/${i}.md`, content: `new ${i}` })),
      ];
      await fs.applyBatch(items);
      const records = decodeJournal(readFileSync(journalPath)).records;
      expect(records).toHaveLength(1);
      expect(records[0]!.map((op) => op.path).sort()).toEqual(items.map((item) => item.path).sort());

      // The whole record: after a crash every change is back.
      const whole = join(dir.path, 'whole');
      copyFileSync(journalPath, whole);
      const replayed = await servers.start({ journalPath: whole, configs: [{ base: '/', driver: copyOf(driver), default: true }] });
      expect(await replayed.readFile('/keep.md')).toBe('kept v2');
      expect(await replayed.fileExists('/gone.md')).toBe(false);
      expect((await replayed.listFiles('/new')).length).toBe(20);

      // Torn anywhere inside: none of it.
      const record = encodeRecord(records[0]!);
      const torn = join(dir.path, 'torn');
      const journal = readFileSync(journalPath);
      writeFileSync(torn, journal.subarray(0, journal.byteLength - record.byteLength)); // the header alone
      appendFileSync(torn, record.subarray(0, Math.floor(record.byteLength / 2)));
      const recovered = await servers.start({ journalPath: torn, configs: [{ base: '/', driver: copyOf(driver), default: true }] });
      expect(await snapshot(recovered)).toEqual({ '/keep.md': 'keep', '/gone.md': 'gone' });
    } finally {
      release();
      releaseDeletes();
    }
  });
});

function copyOf(driver: MemoryDriver): MemoryDriver {
  const copy = new MemoryDriver();
  copy.seed(Object.fromEntries(driver.paths().map((p) => [p, driver.peek(p)!])));
  return copy;
}
