/**
 * reset() against Sagents' FileSystemServer reset ("back to the pristine
 * persisted state"), item by item, plus what scopefs adds: the discarded
 * versions stay in history, so a reset can be undone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { openMemoryHistory } from '../../persistence/history/open-history.js';
import { FileSystemServer } from '../../src/fs/file-system-server.js';
import { Servers, tempDir, until } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

async function scope(options: { durability?: 'journal' | 'debounced'; journalPath?: string; driver?: MemoryDriver } = {}) {
  const driver = options.driver ?? new MemoryDriver();
  const history = openMemoryHistory();
  const fs = await servers.start({
    durability: options.durability ?? 'debounced',
    journalPath: options.journalPath,
    debounceMs: 60_000,
    configs: [{ base: '/p', driver }],
    history: { store: history, scope: 'test' },
  });
  return { fs, driver, history };
}

describe('reset: Sagents semantics', () => {
  it('removes memory-only files', async () => {
    const { fs } = await scope();
    await fs.writeFile('/scratch/notes.md', 'thinking');
    await fs.reset();
    expect(await fs.fileExists('/scratch/notes.md')).toBe(false);
    expect((await fs.stats()).memoryOnly).toBe(0);
  });

  it('discards in-memory modifications of persisted files: they read as persisted again', async () => {
    const { fs, driver } = await scope();
    await fs.writeFile('/p/a.md', 'persisted');
    await until(() => driver.peekText('/a.md') === 'persisted');
    await fs.writeFile('/p/a.md', 'modified, not yet persisted');
    expect((await fs.stat('/p/a.md')).dirty).toBe(true);
    await fs.reset();
    expect(await fs.readFile('/p/a.md')).toBe('persisted');
    expect(driver.peekText('/a.md')).toBe('persisted');
    expect((await fs.stats()).dirty).toBe(0);
  });

  it('cancels pending timers: nothing is persisted after the reset', async () => {
    const { fs, driver } = await scope();
    await fs.writeFile('/p/a.md', 'v1');
    await until(() => driver.writes === 1);
    await fs.writeFile('/p/a.md', 'v2');
    expect((await fs.stats()).pendingTimers).toBe(1);
    await fs.reset();
    expect((await fs.stats()).pendingTimers).toBe(0);
    await fs.flushAll();
    expect(driver.writes).toBe(1);
    expect(driver.peekText('/a.md')).toBe('v1');
  });

  it('discards a pending delete: the persisted file is back', async () => {
    const driver = new MemoryDriver();
    driver.failNext('delete', 100);
    const { fs } = await scope({ driver });
    await fs.writeFile('/p/kept.md', 'still here');
    await until(() => driver.peekText('/kept.md') === 'still here');
    await fs.deleteFile('/p/kept.md');
    await fs.reset();
    expect(await fs.readFile('/p/kept.md')).toBe('still here');
  });

  it('reloads persisted files lazily (metadata indexed, content not loaded)', async () => {
    const { fs, driver } = await scope();
    await fs.writeFile('/p/a.md', 'one');
    await until(() => driver.writes === 1);
    await fs.reset();
    expect(await fs.stats()).toMatchObject({ total: 1, loaded: 0, notLoaded: 1 });
  });

  it('journal-only changes are discarded for good: a restart does not replay them', async () => {
    const dir = await tempDir();
    const driver = new MemoryDriver();
    const journalPath = `${dir.path}/journal.log`;
    const first = await scope({ durability: 'journal', journalPath, driver });
    await first.fs.writeFile('/p/a.md', 'v1');
    await until(() => driver.peekText('/a.md') === 'v1');
    await first.fs.writeFile('/p/a.md', 'journaled only');
    await first.fs.reset();
    await first.fs.stop();
    const again = await FileSystemServer.start({ journalPath, configs: [{ base: '/p', driver }] });
    try {
      expect(await again.readFile('/p/a.md')).toBe('v1');
    } finally {
      await again.stop();
      await dir.remove();
    }
  });
});

describe('reset: what it discards stays in history', () => {
  it('a discarded modification and a removed memory-only file can be restored', async () => {
    const { fs, driver } = await scope();
    await fs.writeFile('/p/a.md', 'persisted');
    await until(() => driver.peekText('/a.md') === 'persisted');
    await fs.writeFile('/p/a.md', 'discarded edit', { actor: 'agent-1' });
    await fs.writeFile('/scratch.md', 'discarded scratch');
    await fs.reset();

    const versions = await fs.history('/p/a.md');
    // newest first: the state reset went back to, the discarded edit, the first write
    expect(versions.map((v) => [v.origin, v.actor])).toEqual([
      ['local', 'reset'],
      ['local', 'agent-1'],
      ['local', undefined],
    ]);
    await fs.restore('/p/a.md', versions[1]!.revision);
    expect(await fs.readFile('/p/a.md')).toBe('discarded edit');

    const [gone] = await fs.listDeleted();
    expect(gone).toMatchObject({ path: '/scratch.md', deleted: true, actor: 'reset' });
    const [, scratch] = await fs.history('/scratch.md');
    await fs.restore('/scratch.md', scratch!.revision);
    expect(await fs.readFile('/scratch.md')).toBe('discarded scratch');
  });
});
