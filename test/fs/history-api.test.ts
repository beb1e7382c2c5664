/** readEntry, history, readFile at a revision, restore, undelete and checkpoints on a FileSystemServer with a real (SQLite) history. */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { openMemoryHistory } from '../../persistence/history/open-history.js';
import { FileSystemServer } from '../../src/fs/file-system-server.js';
import { Servers, until } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

async function withHistory(driver = new MemoryDriver()) {
  const fs = await servers.start({ configs: [{ base: '/', default: true, driver }], history: { store: openMemoryHistory(), scope: 'test', instance: 'inst-A' } });
  return { fs, driver };
}

describe('readEntry', () => {
  it('answers the metadata and content of one version, loading a persisted file lazily', async () => {
    const driver = new MemoryDriver();
    const first = await servers.start({ configs: [{ base: '/', default: true, driver }] });
    const written = await first.writeFile('/a.md', 'hello');
    const same = await first.readEntry('/a.md');
    expect(same.content).toBe('hello');
    expect(same.meta).toMatchObject({ revision: written.revision, checksum: written.checksum, size: 5 });
    await first.stop();
    const fs = await servers.start({ configs: [{ base: '/', default: true, driver }] });
    expect((await fs.stat('/a.md')).loaded).toBe(false);
    const entry = await fs.readEntry('/a.md', { encoding: 'bytes' });
    expect(Buffer.from(entry.content).toString()).toBe('hello');
    expect(entry.meta).toMatchObject({ path: '/a.md', size: 5, loaded: true, checksum: written.checksum });
  });

  it('ENOENT for a missing file, EINVAL for an unknown encoding', async () => {
    const fs = await servers.start();
    await expect(fs.readEntry('/nope.md')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.readEntry('/nope.md', { encoding: 'latin1' as 'utf8' })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('history', () => {
  it('records every change with its origin, actor and instance, newest first; older revisions read back', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', 'one', { actor: 'agent-1' });
    await fs.appendFile('/a.md', ' two');
    await fs.editFile('/a.md', 'one', 'uno', { actor: 'token:ci' });
    const versions = await fs.history('/a.md');
    expect(versions.map((v) => [v.actor, v.instance, v.size, v.origin])).toEqual([
      ['token:ci', 'inst-A', 7, 'local'],
      [undefined, 'inst-A', 7, 'local'],
      ['agent-1', 'inst-A', 3, 'local'],
    ]);
    expect(await fs.readFile('/a.md', { revision: versions[2]!.revision })).toBe('one');
    expect(await fs.history('/a.md', { limit: 1 })).toHaveLength(1);
  });

  it('a sync change is not recorded here (its writer recorded it in the shared history)', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', 'local');
    await fs.writeFile('/a.md', 'from another instance', { origin: 'sync' });
    expect((await fs.history('/a.md')).map((v) => v.size)).toEqual([5]);
  });

  it('restore writes an older version as a new one, obeying ifRevision', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', 'good');
    const bad = await fs.writeFile('/a.md', 'bad');
    const [, good] = await fs.history('/a.md');
    await expect(fs.restore('/a.md', good!.revision, { ifRevision: bad.revision + 5 })).rejects.toMatchObject({ code: 'ESTALE' });
    const restored = await fs.restore('/a.md', good!.revision, { ifRevision: bad.revision });
    expect(restored.revision).toBeGreaterThan(bad.revision);
    expect(await fs.readFile('/a.md')).toBe('good');
    expect(await fs.history('/a.md')).toHaveLength(3);
  });

  it('undeletes a deleted path listed by listDeleted', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/d/x.md', 'keep me');
    await fs.deleteFile('/d/x.md');
    const deleted = await fs.listDeleted('/d');
    expect(deleted).toMatchObject([{ path: '/d/x.md', deleted: true, hash: null }]);
    const [, before] = await fs.history('/d/x.md');
    await fs.restore('/d/x.md', before!.revision);
    expect(await fs.readFile('/d/x.md')).toBe('keep me');
    expect(await fs.listDeleted()).toEqual([]);
  });

  it('a move records a deletion at the old path and a version at the new one', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/old.md', 'moving');
    await fs.moveFile('/old.md', '/new.md');
    expect((await fs.history('/old.md'))[0]).toMatchObject({ deleted: true });
    expect((await fs.history('/new.md'))[0]).toMatchObject({ deleted: false, size: 6 });
  });

  it('typed errors name unknown revisions and deletions', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', 'x');
    await fs.deleteFile('/a.md');
    const [deletion] = await fs.history('/a.md');
    await expect(fs.readFile('/a.md', { revision: 999 })).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('no revision 999 of /a.md') });
    await expect(fs.restore('/a.md', deletion!.revision)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('deletion') });
    await expect(fs.restore('/a.md', -1)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('without a history the methods fail with EINVAL saying how to get one', async () => {
    const fs = await servers.start();
    await expect(fs.history('/a.md')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('history') });
  });

  it('journal replay after a crash records what the journal held', async () => {
    const { tempDir } = await import('./helpers.js');
    const dir = await tempDir();
    const history = openMemoryHistory();
    const driver = new MemoryDriver();
    driver.failNext('write', 1000);
    const journalPath = `${dir.path}/journal.log`;
    const first = await FileSystemServer.start({ journalPath, configs: [{ base: '/', default: true, driver }], retry: { initialMs: 60_000 } });
    await first.writeFile('/a.md', 'only in the journal');
    first.exit('killed'); // no flush, no history: as if the process died
    await until(() => first.status !== 'running');
    const fs = await servers.start({ journalPath, configs: [{ base: '/', default: true, driver: new MemoryDriver() }], history: { store: history, scope: 's' } });
    expect(await fs.history('/a.md')).toMatchObject([{ origin: 'replay', size: 19 }]);
    await dir.remove();
  });
});

describe('checkpoints', () => {
  it('checkpoint, change things, dry run, restore: back to the manifest as ordinary changes', async () => {
    const { fs, driver } = await withHistory();
    await fs.writeFile('/docs/a.md', 'a1');
    await fs.writeFile('/docs/b.md', 'b1');
    await fs.writeFile('/other.md', 'o1');
    const info = await fs.checkpoint('before-agent', { message: 'clean state' });
    expect(info).toMatchObject({ name: 'before-agent', message: 'clean state', prefix: '/', fileCount: 3 });
    await fs.writeFile('/docs/a.md', 'a2 (agent)');
    await fs.deleteFile('/docs/b.md');
    await fs.writeFile('/docs/c.md', 'new (agent)');
    await fs.writeFile('/other.md', 'o2');

    expect(await fs.diffCheckpoint('before-agent')).toEqual({ from: 'before-agent', to: 'current', added: ['/docs/c.md'], removed: ['/docs/b.md'], changed: ['/docs/a.md', '/other.md'] });
    const dry = await fs.restoreCheckpoint('before-agent', { prefix: '/docs', dryRun: true });
    expect(dry).toEqual({ checkpoint: 'before-agent', dryRun: true, written: ['/docs/a.md'], created: ['/docs/b.md'], deleted: ['/docs/c.md'], unchanged: 0 });
    expect(await fs.readFile('/docs/a.md')).toBe('a2 (agent)');

    const done = await fs.restoreCheckpoint('before-agent', { prefix: '/docs', actor: 'operator' });
    expect({ ...done, dryRun: true }).toEqual(dry);
    expect(await fs.listFiles('/docs')).toEqual(['/docs/a.md', '/docs/b.md']);
    expect(await fs.readFile('/docs/b.md')).toBe('b1');
    expect(await fs.readFile('/other.md')).toBe('o2'); // outside the prefix
    await fs.flushAll();
    expect(driver.peekText('/docs/a.md')).toBe('a1');
    expect((await fs.history('/docs/a.md'))[0]).toMatchObject({ actor: 'operator' });
    // a rollback is itself undoable: the agent's version is still in history
    expect((await fs.history('/docs/c.md'))[1]).toMatchObject({ deleted: false });
  });

  it('lists checkpoints newest first, diffs two of them, and names unknown ones in ENOENT', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', '1');
    await fs.checkpoint('one');
    await fs.writeFile('/b.md', '2');
    await fs.checkpoint('two', { prefix: '/' });
    expect((await fs.listCheckpoints()).map((c) => c.name)).toEqual(['two', 'one']);
    expect(await fs.diffCheckpoint('one', 'two')).toMatchObject({ added: ['/b.md'], removed: [], changed: [] });
    await expect(fs.restoreCheckpoint('three')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('"three"') });
    await expect(fs.checkpoint('one')).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('deleteCheckpoint removes it (the files stay); an unknown or deleted name is ENOENT naming it', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/a.md', '1');
    await fs.checkpoint('one');
    await fs.checkpoint('two');
    await fs.deleteCheckpoint('one');
    expect((await fs.listCheckpoints()).map((c) => c.name)).toEqual(['two']);
    expect(await fs.readFile('/a.md')).toBe('1');
    await expect(fs.deleteCheckpoint('one')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('"one"') });
    await expect(fs.restoreCheckpoint('one')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.deleteCheckpoint('')).rejects.toMatchObject({ code: 'EINVAL' });
    await fs.checkpoint('one'); // the name is free again
  });

  it('a prefix checkpoint restores only under its prefix', async () => {
    const { fs } = await withHistory();
    await fs.writeFile('/p/a.md', 'a');
    await fs.checkpoint('p-only', { prefix: '/p' });
    await expect(fs.restoreCheckpoint('p-only', { prefix: '/q' })).rejects.toMatchObject({ code: 'EINVAL' });
    await fs.writeFile('/q/x.md', 'untouched');
    await fs.deleteFile('/p/a.md');
    expect(await fs.restoreCheckpoint('p-only')).toMatchObject({ created: ['/p/a.md'], deleted: [] });
    expect(await fs.readFile('/q/x.md')).toBe('untouched');
  });
});

describe('checkpoint flush option', () => {
  it('flushes pending writes first by default; with flush false it records the manifest from memory and leaves them pending', async () => {
    const driver = new MemoryDriver();
    const fs = await servers.start({ durability: 'debounced', debounceMs: 60_000, configs: [{ base: '/', default: true, driver }], history: { store: openMemoryHistory(), scope: 'test' } });
    await fs.writeFile('/a.md', 'one'); // a new file persists at once
    await fs.writeFile('/a.md', 'two'); // an update waits for its debounce
    const quick = await fs.checkpoint('quick', { flush: false });
    expect((await fs.stats()).dirty).toBe(1);
    expect(Buffer.from(driver.peek('/a.md')!).toString()).toBe('one');
    await fs.checkpoint('flushed');
    expect((await fs.stats()).dirty).toBe(0);
    expect(Buffer.from(driver.peek('/a.md')!).toString()).toBe('two');
    // Both manifests name the content in memory at the time.
    await fs.writeFile('/a.md', 'three');
    await fs.restoreCheckpoint(quick.name);
    expect(await fs.readFile('/a.md')).toBe('two');
  });
});

describe('retention', () => {
  it('prunes beyond the limits as it records, but keeps what a checkpoint references', async () => {
    const history = openMemoryHistory();
    const fs = await servers.start({ history: { store: history, scope: 'r', retention: { maxVersionsPerPath: 2 } } });
    await fs.writeFile('/a.md', 'v1 (checkpointed)');
    await fs.checkpoint('keep-v1');
    for (let i = 2; i <= 6; i++) {
      await fs.writeFile('/a.md', `v${i}`);
      await fs.historySettled(); // one batch per write, so each is followed by a prune step
    }
    const sizes = (await fs.history('/a.md')).map((v) => v.size);
    expect(sizes).toEqual([2, 2, 17]); // the latest two, and the checkpointed first version
    expect(await fs.restoreCheckpoint('keep-v1')).toMatchObject({ written: ['/a.md'] });
    expect(await fs.readFile('/a.md')).toBe('v1 (checkpointed)');
  });

  it('after deleteCheckpoint the versions only it referenced are pruned at the next record', async () => {
    const history = openMemoryHistory();
    const fs = await servers.start({ history: { store: history, scope: 'r', retention: { maxVersionsPerPath: 2 } } });
    await fs.writeFile('/a.md', 'v1 (checkpointed)');
    await fs.checkpoint('keep-v1');
    for (let i = 2; i <= 4; i++) {
      await fs.writeFile('/a.md', `v${i}`);
      await fs.historySettled();
    }
    expect((await fs.history('/a.md')).map((v) => v.size)).toEqual([2, 2, 17]);
    await fs.deleteCheckpoint('keep-v1');
    await fs.writeFile('/a.md', 'v5');
    await fs.historySettled();
    expect((await fs.history('/a.md')).map((v) => v.size)).toEqual([2, 2]);
    await expect(fs.readFile('/a.md', { revision: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('recorder', () => {
  it('closing waits a bounded time for a store that does not answer, and says what it could not record', async () => {
    const { HistoryRecorder } = await import('../../src/fs/history-recorder.js');
    const down = openMemoryHistory();
    down.record = () => Promise.reject(new Error('connection refused'));
    const errors: string[] = [];
    const recorder = new HistoryRecorder({ store: down, scope: 's', onError: (message) => errors.push(message) });
    recorder.note({ path: '/a.md', content: null, hash: null, at: Date.now(), origin: 'local' });
    const started = Date.now();
    await recorder.close(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors[0]).toMatch(/recording history failed \(retrying\): connection refused/);
    expect(errors.at(-1)).toMatch(/1 version\(s\) not recorded at shutdown/);
  });
});
