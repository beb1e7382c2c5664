import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { isScopeFsError } from '../../src/errors.js';
import { ScopePool, type ScopePoolOptions } from '../../supervisors/scope/scope-pool.js';
import { scopeDirName } from '../../supervisors/scope/scope-dir.js';
import { FailingCallsStore } from '../sync/fixtures/failing-calls-store.js';

const pools: ScopePool[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function pool(store: SyncStore, options: Partial<ScopePoolOptions> = {}): Promise<ScopePool> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'scopefs-pool-')));
  dirs.push(dataDir);
  const created = new ScopePool({
    dataDir,
    idleMs: 60_000,
    scopeOptions: (key) => ({ watch: false, debounceMs: 5, sync: { store, app: key, debounceMs: 0, backoff: { initialMs: 20, maxMs: 200 } } }),
    ...options,
  });
  pools.push(created);
  return created;
}

function stopped(pool: ScopePool, key: string): Promise<{ localCopyRemoved: boolean }> {
  return new Promise((resolve) => {
    const listener = (event: { key: string; localCopyRemoved: boolean }) => {
      if (event.key !== key) return;
      pool.off('scope_stopped', listener);
      resolve(event);
    };
    pool.on('scope_stopped', listener);
  });
}

describe('ScopePool', () => {
  it('stops an idle scope flushed and pushed, and restarts it with its files', async () => {
    const store = new MemoryStore();
    const a = await pool(store, { idleMs: 50 });
    const down = stopped(a, 'user/1');
    await a.withScope('user/1', (scope) => scope.fs.writeFile('/notes.md', 'kept').then(() => undefined));
    await down;
    expect(await readFile(join(a.rootOf('user/1'), 'notes.md'), 'utf8')).toBe('kept');
    // Pushed: another server with an empty disk gets it from the store.
    const b = await pool(store);
    const text = await b.withScope(['user', 1], async (scope) => {
      await scope.sync!.idle();
      return scope.fs.readFile('/notes.md');
    });
    expect(text).toBe('kept');
    expect(await a.withScope('user/1', (scope) => scope.fs.readFile('/notes.md'))).toBe('kept');
  });

  it('evicts the least recently used idle scope at maxActive and lists states and sizes', async () => {
    const p = await pool(new MemoryStore(), { maxActive: 2 });
    for (const key of ['a', 'b']) await p.withScope(key, (scope) => scope.fs.writeFile('/f.txt', key.repeat(3)).then(() => undefined));
    const aDown = stopped(p, 'a');
    const lease = await p.acquire('c');
    await aDown;
    const listed = await p.listScopes();
    expect(listed.map(({ key, state, files, bytes }) => ({ key, state, files, bytes }))).toEqual([
      { key: 'a', state: 'stopped', files: 1, bytes: 3 },
      { key: 'b', state: 'idle', files: 1, bytes: 3 },
      { key: 'c', state: 'active', files: 0, bytes: 0 },
    ]);
    lease.release();
  });

  it('lists a stopped scope by the size it recorded when it stopped, and one that never stopped cleanly by walking it', async () => {
    const p = await pool(new MemoryStore(), { maxActive: 1 });
    await p.withScope('a', (scope) => scope.fs.applyBatch([{ path: '/x.txt', content: 'xx' }, { path: '/d/y.txt', content: 'yyyy' }]).then(() => undefined));
    const aDown = stopped(p, 'a');
    const lease = await p.acquire('b');
    await aDown;
    const sizeFile = join(p.rootOf('a'), '.scopefs', 'stopped-size.json');
    expect(JSON.parse(await readFile(sizeFile, 'utf8'))).toEqual({ files: 2, bytes: 6 });
    // The listing reads the record, not the tree: a file dropped in by hand afterwards is not counted.
    await writeFile(join(p.rootOf('a'), 'by-hand.txt'), 'zzz');
    const listed = async () => (await p.listScopes()).find((scope) => scope.key === 'a');
    expect(await listed()).toMatchObject({ state: 'stopped', files: 2, bytes: 6 });
    // Without a record (a process killed while the scope ran), the tree is walked.
    await rm(sizeFile);
    expect(await listed()).toMatchObject({ state: 'stopped', files: 3, bytes: 9 });
    lease.release();
  });

  it('refuses a new scope when every running one is in use', async () => {
    const p = await pool(new MemoryStore(), { maxActive: 1, maxActiveWaitMs: 50 });
    const lease = await p.acquire('busy');
    const refused = await p.acquire('other').catch((err: unknown) => err);
    expect(isScopeFsError(refused, 'ESTOPPED')).toBe(true);
    lease.release();
    await p.withScope('other', async () => undefined); // room once released
  });

  it('loses nothing written while the scope is stopping: the writes wait and land in the restarted scope', async () => {
    const p = await pool(new MemoryStore(), { maxActive: 1 });
    await p.withScope('a', (scope) => scope.fs.writeFile('/0.txt', 'zero').then(() => undefined));
    const writes: Promise<unknown>[] = [];
    p.once('scope_stopping', () => {
      for (let i = 1; i <= 20; i++) writes.push(p.withScope('a', (scope) => scope.fs.writeFile(`/${i}.txt`, String(i))));
    });
    await p.withScope('b', async () => undefined); // evicts a
    // b is idle now and makes room for a again.
    await Promise.all(writes);
    const files = await p.withScope('a', (scope) => scope.fs.listFiles());
    expect(files.sort()).toEqual(['/0.txt', ...Array.from({ length: 20 }, (_, i) => `/${i + 1}.txt`)].sort());
  });

  it('with ephemeralDisk removes a fully pushed scope from disk and pulls it again on start', async () => {
    const p = await pool(new MemoryStore(), { maxActive: 1, ephemeralDisk: true });
    await p.withScope('e', (scope) => scope.fs.writeFile('/doc.md', 'in the store').then(() => undefined));
    const down = stopped(p, 'e');
    await p.withScope('other', async () => undefined);
    expect((await down).localCopyRemoved).toBe(true);
    await expect(stat(p.rootOf('e'))).rejects.toMatchObject({ code: 'ENOENT' });
    const text = await p.withScope('e', async (scope) => {
      await scope.sync!.idle();
      return scope.fs.readFile('/doc.md');
    });
    expect(text).toBe('in the store');
  });

  it('refuses hostile keys before touching the disk', async () => {
    const p = await pool(new MemoryStore());
    for (const key of ['..', '../x', 'a/../../b', 'nul\u0000', 'x'.repeat(300)]) {
      const err = await p.acquire(key).catch((e: unknown) => e);
      expect(isScopeFsError(err, 'EINVAL'), key).toBe(true);
    }
  });

  it('starts a scope a dead process left running as soon as the pool starts, and pushes what it had', async () => {
    // What a SIGKILLed serve leaves: the scope's files and its running marker (the multi-server test kills one for real).
    const dataDir = await mkdtemp(join(tmpdir(), 'scopefs-pool-'));
    const root = join(dataDir, scopeDirName('user/7'));
    await mkdir(join(root, '.scopefs'), { recursive: true });
    await writeFile(join(root, 'acked.md'), 'acknowledged before the kill');
    await writeFile(join(root, '.scopefs', 'running'), '');
    const store = new MemoryStore();
    const restarted = await pool(store, { dataDir });
    const recovering: string[] = [];
    restarted.on('scope_recovering', ({ key }) => recovering.push(key));
    await restarted.recovered;
    expect(recovering).toEqual(['user/7']);
    // No request reached the restarted pool: another server sees the file through the store.
    const other = await pool(store);
    await other.withScope('user/7', async (scope) => {
      await expect.poll(() => scope.fs.readFile('/acked.md').catch(() => null)).toBe('acknowledged before the kill');
    });
  });

  it('keeps the running marker only while a scope runs or has not pushed everything', async () => {
    const store = new MemoryStore();
    const p = await pool(store);
    const marker = join(p.rootOf('user/8'), '.scopefs', 'running');
    await p.withScope('user/8', (scope) => scope.fs.writeFile('/f.md', 'x').then(() => undefined));
    await expect(access(marker)).resolves.toBeUndefined();
    await p.stop(); // flushed and pushed
    await expect(access(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await pool(store, { dataDir: join(p.rootOf('user/8'), '..') });
    const recovering: string[] = [];
    again.on('scope_recovering', ({ key }) => recovering.push(key));
    await again.recovered;
    expect(recovering).toEqual([]);
  });

  it('starts a scope again that stopped with changes the store did not take, until they are pushed', async () => {
    const store = new MemoryStore();
    const failing = new FailingCallsStore(store);
    failing.fail('push');
    const p = await pool(failing, { idleMs: 50, pushTimeoutMs: 100, pushRetryMs: 50 });
    const restarts: string[] = [];
    p.on('scope_started', ({ key }) => restarts.push(key));
    const down = stopped(p, 'user/9');
    await p.withScope('user/9', (scope) => scope.fs.writeFile('/late.md', 'pushed once the store is back').then(() => undefined));
    await down; // stopped without pushing: the store refused
    await expect.poll(() => restarts.length).toBeGreaterThan(1); // started again with no request
    failing.heal();
    const other = await pool(store);
    await other.withScope('user/9', async (scope) => {
      await expect.poll(() => scope.fs.readFile('/late.md').catch(() => null)).toBe('pushed once the store is back');
    });
  });
});
