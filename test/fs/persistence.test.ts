import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import type { FsMessage } from '../../src/fs/messages.js';
import { Servers, tempDir, until } from './helpers.js';

const servers = new Servers();
afterEach(async () => {
  vi.useRealTimers();
  await servers.stopAll();
});

/** Fake only what the debounce uses; setImmediate stays real so `until` can poll. */
const fakeTimers = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });

describe('FileSystemServer: debounced persistence', () => {
  it('persists a new file at once', async () => {
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 60_000 });
    await fs.writeFile('/new.md', 'fresh');
    await until(() => driver.peekText('/new.md') === 'fresh');
    expect((await fs.stat('/new.md')).dirty).toBe(false);
  });

  it('an update that arrived by sync is persisted at once; a local one waits for its debounce', async () => {
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 60_000 });
    await fs.writeFile('/local.md', 'v0');
    await fs.writeFile('/pulled.md', 'v0');
    await until(() => driver.writes === 2);
    await fs.writeFile('/local.md', 'v1 (local)');
    await fs.writeFile('/pulled.md', 'v1 (sync)', { origin: 'sync' });
    await until(() => driver.peekText('/pulled.md') === 'v1 (sync)');
    expect(driver.peekText('/local.md')).toBe('v0');
    expect(await fs.stats()).toMatchObject({ dirty: 1, pendingTimers: 1 });
  });

  it('rapid updates cause exactly one debounced persist, with the last content', async () => {
    fakeTimers();
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 100 });
    await fs.writeFile('/a.md', 'v0');
    await until(() => driver.writes === 1);
    for (let i = 1; i <= 50; i++) {
      await fs.writeFile('/a.md', `v${i}`);
      await vi.advanceTimersByTimeAsync(50); // always inside the (restarted) window
    }
    expect(driver.writes).toBe(1);
    expect((await fs.stats()).pendingTimers).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    await until(() => driver.writes === 2);
    expect(driver.peekText('/a.md')).toBe('v50');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(driver.writes).toBe(2);
    expect(await fs.stats()).toMatchObject({ dirty: 0, pendingTimers: 0 });
  });

  it('a config debounce overrides the server default', async () => {
    fakeTimers();
    const fast = new MemoryDriver();
    const fs = await servers.start({ durability: 'debounced', debounceMs: 10_000, configs: [{ base: '/fast', driver: fast, debounceMs: 10 }] });
    await fs.writeFile('/fast/a', '1');
    await until(() => fast.writes === 1);
    await fs.writeFile('/fast/a', '2');
    await vi.advanceTimersByTimeAsync(10);
    await until(() => fast.peekText('/a') === '2');
  });

  it('timers follow a move and persist under the new path', async () => {
    fakeTimers();
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 100 });
    await fs.writeFile('/a.md', 'v1');
    await until(() => driver.writes === 1);
    await fs.writeFile('/a.md', 'v2');
    await vi.advanceTimersByTimeAsync(60);
    await fs.moveFile('/a.md', '/b.md');
    expect((await fs.stats()).pendingTimers).toBe(1);
    await until(() => !driver.has('/a.md'));
    await vi.advanceTimersByTimeAsync(39);
    expect(driver.has('/b.md')).toBe(false); // the timer kept its deadline: 1 ms left
    await vi.advanceTimersByTimeAsync(1);
    await until(() => driver.peekText('/b.md') === 'v2');
    expect(driver.paths()).toEqual(['/b.md']);
    expect(await fs.stats()).toMatchObject({ dirty: 0, pendingTimers: 0 });
  });

  it('a move of a clean file copies at once and then deletes the old copy', async () => {
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 60_000 });
    await fs.writeFile('/dir/a.md', 'a');
    await fs.writeFile('/dir/b.md', 'b');
    await fs.flushAll();
    await fs.moveFile('/dir', '/other');
    await until(() => driver.paths().join() === '/other/a.md,/other/b.md');
    const order = driver.events.slice(-4).map((e) => e.op);
    expect(order.indexOf('write')).toBeLessThan(order.lastIndexOf('delete'));
  });

  it('moves a not-yet-loaded file by loading it once', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/cold.md': 'cold' });
    const { server: fs } = await servers.withMemory({}, driver);
    await fs.moveFile('/cold.md', '/warm.md');
    expect(driver.loads).toBe(1);
    await fs.flushAll();
    expect(driver.paths()).toEqual(['/warm.md']);
    expect(driver.peekText('/warm.md')).toBe('cold');
  });

  it('persists deletes', async () => {
    const { server: fs, driver } = await servers.withMemory();
    await fs.writeFile('/gone.md', 'x');
    await fs.flushAll();
    await fs.deleteFile('/gone.md');
    await until(() => !driver.has('/gone.md'));
    await fs.writeFile('/gone.md', 'back');
    await fs.flushAll();
    expect(driver.peekText('/gone.md')).toBe('back');
  });
});

describe('FileSystemServer: flushAll, failures and retries', () => {
  it('flushAll persists dirty entries that have no timer (a persist in flight) and ones that do', async () => {
    let release = (): void => undefined;
    // The write is let go as the flush is handled, so it is still in flight then (the mailbox may
    // wait for the event loop's turn before it handles the flush).
    const trace = (message: FsMessage) => void (message.type === 'flush' && release());
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 60_000, trace });
    await fs.writeFile('/timer.md', 'one');
    await fs.flushAll();
    await fs.writeFile('/timer.md', 'two'); // debounce timer pending
    release = driver.block('write');
    await fs.writeFile('/inflight.md', 'new'); // persisted at once: in flight, no timer
    expect(await fs.stats()).toMatchObject({ dirty: 2, pendingTimers: 1 });
    const result = await fs.flushAll();
    expect(result.flushed.sort()).toEqual(['/inflight.md', '/timer.md']);
    expect(result.failed).toEqual([]);
    expect(driver.peekText('/timer.md')).toBe('two');
    expect(driver.peekText('/inflight.md')).toBe('new');
    expect(await fs.stats()).toMatchObject({ dirty: 0, pendingTimers: 0 });
  });

  it('a failed persist keeps the entry dirty and retries with backoff until it succeeds', async () => {
    const driver = new MemoryDriver();
    driver.failNext('write', 3);
    const { server: fs } = await servers.withMemory({ retry: { initialMs: 5, maxMs: 20 } }, driver);
    await fs.writeFile('/flaky.md', 'content');
    await until(() => driver.failures >= 1);
    expect(fs.status).toBe('running');
    await until(() => driver.peekText('/flaky.md') === 'content');
    expect(driver.failures).toBe(3);
    await until(async () => (await fs.stats()).dirty === 0);
    expect((await fs.stats()).pendingTimers).toBe(0);
  });

  it('flushAll reports failures, then recovers on the next flush', async () => {
    const driver = new MemoryDriver();
    const release = driver.block('write');
    // The write is let go as the flush is handled, so the flush joins it rather than starting another
    // (the mailbox may wait for the event loop's turn before it handles the flush).
    const trace = (message: FsMessage) => void (message.type === 'flush' && release());
    const { server: fs } = await servers.withMemory({ retry: { initialMs: 60_000 }, trace }, driver);
    await fs.writeFile('/f.md', 'x');
    driver.failNext('write'); // the in-flight write, whose outcome the flush reports
    const failed = await fs.flushAll();
    expect(failed.failed.map((f) => f.path)).toEqual(['/f.md']);
    expect(failed.failed[0]!.error).toContain('injected write failure');
    expect((await fs.stat('/f.md')).dirty).toBe(true);
    const ok = await fs.flushAll();
    expect(ok).toEqual({ flushed: ['/f.md'], failed: [] });
    expect(driver.peekText('/f.md')).toBe('x');
  });

  it('retries a failed delete', async () => {
    const { server: fs, driver } = await servers.withMemory({ retry: { initialMs: 5 } });
    await fs.writeFile('/d.md', 'x');
    await fs.flushAll();
    driver.failNext('delete', 2);
    await fs.deleteFile('/d.md');
    await until(() => !driver.has('/d.md'));
    expect(driver.failures).toBe(2);
  });

  it('immediate mode writes through before returning and rejects with EIO when that fails', async () => {
    const { server: fs, driver } = await servers.withMemory({ durability: 'immediate', retry: { initialMs: 5 } });
    await fs.writeFile('/i.md', 'one');
    expect(driver.peekText('/i.md')).toBe('one');
    await fs.writeFile('/i.md', 'two');
    expect(driver.peekText('/i.md')).toBe('two');
    await fs.moveFile('/i.md', '/j.md');
    expect(driver.paths()).toEqual(['/j.md']);
    await fs.deleteFile('/j.md');
    expect(driver.paths()).toEqual([]);
    driver.failNext('write');
    await expect(fs.writeFile('/k.md', 'x')).rejects.toMatchObject({ code: 'EIO', path: '/k.md' });
    await until(() => driver.peekText('/k.md') === 'x'); // kept dirty and retried, never dropped
  });
});

describe('FileSystemServer: lazy loading and indexing', () => {
  it('indexes metadata without loading; a load happens once even with concurrent reads', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/a.md': 'hello', '/b.md': 'other' });
    const { server: fs } = await servers.withMemory({}, driver);
    const entries = await fs.listEntries();
    expect(entries.map((e) => [e.path, e.size, e.loaded, e.checksum])).toEqual([
      ['/a.md', 5, false, undefined],
      ['/b.md', 5, false, undefined],
    ]);
    expect(await fs.stats()).toMatchObject({ total: 2, persisted: 2, loaded: 0, notLoaded: 2 });
    const reads = await Promise.all(Array.from({ length: 10 }, () => fs.readFile('/a.md')));
    expect(reads).toEqual(Array(10).fill('hello'));
    expect(driver.loads).toBe(1);
    expect((await fs.stat('/a.md')).loaded).toBe(true);
    expect(await fs.stats()).toMatchObject({ loaded: 1, notLoaded: 1 });
  });

  it('a slow lazy load does not hold up other calls, and a write during it wins', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/slow.md': 'from disk', '/other.md': 'o' });
    const { server: fs } = await servers.withMemory({}, driver);
    const release = driver.block('load');
    const slowRead = fs.readFile('/slow.md');
    await fs.writeFile('/new.md', 'not blocked');
    expect(await fs.fileExists('/new.md')).toBe(true);
    const racedRead = fs.readFile('/slow.md');
    await fs.writeFile('/slow.md', 'written while loading');
    release();
    expect(await slowRead).toBe('written while loading');
    expect(await racedRead).toBe('written while loading');
    expect(await fs.readFile('/slow.md')).toBe('written while loading');
  });

  it('a file gone from the driver reads as ENOENT and is dropped', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/ghost.md': 'x' });
    const { server: fs } = await servers.withMemory({}, driver);
    await driver.delete('/ghost.md');
    await expect(fs.readFile('/ghost.md')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.fileExists('/ghost.md')).toBe(false);
  });

  it('a failing load is EIO, not a crash', async () => {
    const driver = new MemoryDriver();
    driver.seed({ '/a.md': 'x' });
    const { server: fs } = await servers.withMemory({}, driver);
    driver.failNext('load');
    await expect(fs.readFile('/a.md')).rejects.toMatchObject({ code: 'EIO', path: '/a.md' });
    expect(await fs.readFile('/a.md')).toBe('x');
  });

  it('registerFiles adds lazily loaded entries; memory-only paths are refused', async () => {
    const { server: fs, driver } = await servers.withMemory();
    driver.seed({ '/late.md': 'late' });
    await fs.registerFiles([{ path: '/late.md', size: 4, mimeType: 'text/x-late' }]);
    expect(await fs.stat('/late.md')).toMatchObject({ loaded: false, size: 4, mimeType: 'text/x-late' });
    expect(await fs.readFile('/late.md')).toBe('late');
    const memoryOnly = await servers.start();
    await expect(memoryOnly.registerFiles([{ path: '/x.md' }])).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('FileSystemServer: persistence configs', () => {
  it('the longest matching base wins, then the default; other paths are memory-only', async () => {
    const docs = new MemoryDriver({ name: 'docs' });
    const secret = new MemoryDriver({ name: 'secret' });
    const fallback = new MemoryDriver({ name: 'fallback' });
    const fs = await servers.start({
      durability: 'debounced',
      configs: [
        { base: '/docs', driver: docs, debounceMs: 5 },
        { base: '/docs/secret', driver: secret },
        { base: '/', driver: fallback, default: true },
      ],
    });
    await fs.writeFile('/docs/a.md', 'a');
    await fs.writeFile('/docs/secret/b.md', 'b');
    await fs.writeFile('/docsy.md', 'c');
    await fs.flushAll();
    expect(docs.paths()).toEqual(['/a.md']);
    expect(secret.paths()).toEqual(['/b.md']);
    expect(fallback.paths()).toEqual(['/docsy.md']);
    expect(await fs.getPersistenceConfigs()).toEqual([
      { base: '/docs/secret', driver: 'secret', debounceMs: 500, readonly: false, default: false, maxFileBytes: 64 * 1024 * 1024 },
      { base: '/docs', driver: 'docs', debounceMs: 5, readonly: false, default: false, maxFileBytes: 64 * 1024 * 1024 },
      { base: '/', driver: 'fallback', debounceMs: 500, readonly: false, default: true, maxFileBytes: 64 * 1024 * 1024 },
    ]);
  });

  it('without a default config, paths outside every base are memory-only', async () => {
    const driver = new MemoryDriver();
    const fs = await servers.start({ configs: [{ base: '/kept', driver }] });
    const meta = await fs.writeFile('/scratch.md', 'x');
    expect(meta).toMatchObject({ memoryOnly: true, dirty: false });
    await fs.writeFile('/kept/a.md', 'y');
    await fs.flushAll();
    expect(driver.paths()).toEqual(['/a.md']);
    expect(await fs.stats()).toMatchObject({ memoryOnly: 1, persisted: 1 });
  });

  it('moves across configs copy, then delete', async () => {
    const left = new MemoryDriver();
    const right = new MemoryDriver();
    const fs = await servers.start({ durability: 'debounced', configs: [{ base: '/left', driver: left }, { base: '/right', driver: right }] });
    await fs.writeFile('/left/doc.md', 'travels');
    await fs.flushAll();
    await fs.moveFile('/left/doc.md', '/right/doc.md');
    await fs.flushAll();
    expect(left.paths()).toEqual([]);
    expect(right.peekText('/doc.md')).toBe('travels');
    await fs.moveFile('/right/doc.md', '/memory.md');
    await fs.flushAll();
    expect(right.paths()).toEqual([]);
    expect((await fs.stat('/memory.md')).memoryOnly).toBe(true);
  });

  it('registerPersistence indexes the new config, and memory files it now covers are persisted to it', async () => {
    const fs = await servers.start({ durability: 'debounced' });
    await fs.writeFile('/proj/mine.md', 'from memory');
    const driver = new MemoryDriver({ name: 'proj' });
    driver.seed({ '/stored.md': 'from driver', '/mine.md': 'older copy' });
    await fs.registerPersistence({ base: '/proj', driver });
    expect(await fs.listFiles()).toEqual(['/proj/mine.md', '/proj/stored.md']);
    expect(await fs.readFile('/proj/mine.md')).toBe('from memory');
    expect(await fs.readFile('/proj/stored.md')).toBe('from driver');
    await until(() => driver.peekText('/mine.md') === 'from memory');
    expect((await fs.stat('/proj/mine.md')).memoryOnly).toBe(false);
    expect((await fs.getPersistenceConfigs()).map((c) => c.base)).toEqual(['/proj']);
  });

  it('registerPersistence takes over not-yet-loaded files of the default config, loading them from there first', async () => {
    const fallback = new MemoryDriver();
    fallback.seed({ '/sub/a.md': 'a' });
    const fs = await servers.start({ durability: 'debounced', configs: [{ base: '/', driver: fallback, default: true }] });
    const sub = new MemoryDriver();
    await fs.registerPersistence({ base: '/sub', driver: sub });
    expect(await fs.readFile('/sub/a.md')).toBe('a');
    await fs.flushAll();
    expect(sub.peekText('/a.md')).toBe('a');
  });

  it('registerPersistence that cannot list its driver fails with EIO and is not added', async () => {
    const fs = await servers.start();
    const driver = new MemoryDriver();
    driver.failNext('list');
    await expect(fs.registerPersistence({ base: '/p', driver })).rejects.toMatchObject({ code: 'EIO' });
    expect(await fs.getPersistenceConfigs()).toEqual([]);
  });

  // Sagents semantics (the full list is in test/fs/history-reset.test.ts): back to what is persisted.
  it('reset discards unpersisted changes and memory-only files, and re-indexes', async () => {
    const driver = new MemoryDriver();
    const kept = await servers.start({ durability: 'debounced', debounceMs: 60_000, configs: [{ base: '/p', driver }] });
    await kept.writeFile('/p/a.md', 'one');
    await until(() => driver.peekText('/a.md') === 'one');
    await kept.writeFile('/p/a.md', 'two'); // pending on its timer
    await kept.writeFile('/scratch.md', 'memory only');
    await kept.reset();
    expect(driver.peekText('/a.md')).toBe('one');
    expect(await kept.listFiles()).toEqual(['/p/a.md']);
    expect(await kept.stats()).toMatchObject({ loaded: 0, notLoaded: 1, pendingTimers: 0, dirty: 0 });
    expect(await kept.readFile('/p/a.md')).toBe('one');
  });

  it('reset discards a change that could not be persisted, and its retries', async () => {
    const { server: fs, driver } = await servers.withMemory({ retry: { initialMs: 60_000 } });
    driver.failNext('write', 10);
    await fs.writeFile('/stuck.md', 'x');
    await fs.reset();
    expect(await fs.fileExists('/stuck.md')).toBe(false);
    expect(await fs.stats()).toMatchObject({ total: 0, dirty: 0, pendingTimers: 0 });
  });
});

describe('FileSystemServer: stop and restart', () => {
  it.each(['debounced', 'immediate', 'journal'] as const)('%s: stop flushes pending writes; a restart sees them, and no moved or deleted file comes back', async (durability) => {
    const driver = new MemoryDriver();
    const dir = await tempDir();
    try {
      const options = { durability, debounceMs: 60_000, journalPath: `${dir.path}/journal`, configs: [{ base: '/', driver, default: true }] };
      const fs = await servers.start(options);
      await fs.writeFile('/a.md', 'a1');
      await fs.writeFile('/a.md', 'a2');
      await fs.writeFile('/dir/x.md', 'x');
      await fs.writeFile('/del.md', 'd');
      await fs.flushAll();
      await fs.moveFile('/a.md', '/b.md');
      await fs.moveFile('/dir', '/moved');
      await fs.deleteFile('/del.md');
      await fs.writeFile('/b.md', 'b-final');
      await fs.stop();
      expect(driver.paths()).toEqual(['/b.md', '/moved/x.md']);
      const again = await servers.start(options);
      expect(await again.listFiles()).toEqual(['/b.md', '/moved/x.md']);
      expect(await again.readFile('/b.md')).toBe('b-final');
    } finally {
      await dir.remove();
    }
  });

  it('a crashed actor still flushes pending writes in terminate', async () => {
    const { server: fs, driver } = await servers.withMemory({ debounceMs: 60_000 });
    await fs.writeFile('/a.md', 'one');
    await fs.writeFile('/a.md', 'two');
    const exited = new Promise((resolve) => fs.onExit(resolve));
    fs.exit(new Error('boom'));
    expect(await exited).toBeInstanceOf(Error);
    expect(fs.status).toBe('crashed');
    await until(() => driver.peekText('/a.md') === 'two');
  });
});
