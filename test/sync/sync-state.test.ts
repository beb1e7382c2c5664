import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import { SyncStateDb } from '../../src/sync/state-db.js';
import { SyncLab, nextEvent } from '../helpers/sync-scopes.js';

describe('persisted sync state', () => {
  let store: MemoryStore;
  let lab: SyncLab;
  beforeEach(async () => {
    store = new MemoryStore();
    lab = await SyncLab.create(store);
  });
  afterEach(() => lab.remove());

  it('survives restarts: bases, cursor and instance id', async () => {
    let a = await lab.start('a', { instanceId: undefined });
    await a.fs.writeFile('/doc.md', 'v1');
    await a.sync!.idle();
    const before = await a.sync!.status();
    await a.stop();
    const state = SyncStateDb.open(join(lab.dir, 'a', '.scopefs', 'sync-state.db'));
    expect(state.allPaths()).toEqual([
      expect.objectContaining({ path: '/doc.md', owner: SHARED_OWNER, baseRevision: 1, remoteRevision: 1 }),
    ]);
    expect(state.cursor).toBe(before.cursor);
    state.close();
    a = await lab.start('a', { instanceId: undefined });
    await a.sync!.idle();
    const after = await a.sync!.status();
    expect(after.instanceId).toBe(before.instanceId);
    expect(after.cursor).toBe(before.cursor);
    expect(await store.head('lab')).toBe(1); // nothing re-pushed
  });

  it('a new state file is an owner-only WAL database of the current schema, and keeps what is committed', () => {
    const file = join(lab.dir, 'fresh', '.scopefs', 'sync-state.db');
    const state = SyncStateDb.open(file);
    const id = state.instanceId();
    state.putPath({ path: '/a.md', owner: SHARED_OWNER, baseHash: 'h', baseRevision: 1, remoteHash: 'h', remoteRevision: 1 });
    state.cursor = 7;
    state.commit();
    state.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(3);
    db.close();
    const again = SyncStateDb.open(file);
    expect(again.instanceId()).toBe(id);
    expect(again.cursor).toBe(7);
    expect(again.allPaths().map((p) => p.path)).toEqual(['/a.md']);
    again.close();
    // A second new file gets an instance id of its own.
    const other = SyncStateDb.open(join(lab.dir, 'other', '.scopefs', 'sync-state.db'));
    expect(other.instanceId()).not.toBe(id);
    other.close();
  });

  it('opens a state file of schema 1 and keeps its open conflicts', async () => {
    const file = join(lab.dir, 'v1.db');
    const v1 = new Database(file);
    v1.exec('CREATE TABLE conflicts (path TEXT PRIMARY KEY, record TEXT NOT NULL); PRAGMA user_version = 1;');
    const record = { type: 'conflict-needs-llm', path: '/c.json', copyPath: '/c.sync-conflict-20260101-000000-a.json' };
    v1.prepare('INSERT INTO conflicts VALUES (?, ?)').run(record.path, JSON.stringify(record));
    v1.close();
    const state = SyncStateDb.open(file);
    expect(state.recovered).toBeUndefined();
    expect(state.conflicts()).toEqual([record]);
    state.deleteConflict(record.copyPath);
    expect(state.conflicts()).toEqual([]);
    state.close();
  });

  it('a conflict copy deleted while the instance was stopped resolves its conflict at the next start', async () => {
    const { b, copyPath } = await binaryConflict();
    await b.stop();
    await rm(join(lab.dir, 'b', copyPath));
    const restarted = await lab.start('b');
    await restarted.sync!.idle();
    expect(await restarted.sync!.conflicts()).toEqual([]);
    expect(await restarted.fs.readFile('/docs/blob.bin', { encoding: 'bytes' })).toEqual(new Uint8Array([0, 0xbb]));
    // b's side, held back while the conflict was open, is pushed now.
    expect(await store.get('lab', SHARED_OWNER, '/docs/blob.bin')).toMatchObject({ updatedBy: 'b' });
  });

  it('a directory moved while the instance was stopped takes its conflict along', async () => {
    const { b, copyPath } = await binaryConflict();
    await b.stop();
    await rename(join(lab.dir, 'b', 'docs'), join(lab.dir, 'b', 'archive'));
    const restarted = await lab.start('b');
    await restarted.sync!.idle();
    const movedCopy = copyPath.replace('/docs/', '/archive/');
    expect(await restarted.sync!.conflicts()).toEqual([expect.objectContaining({ path: '/archive/blob.bin', copyPath: movedCopy })]);
    expect(await restarted.fs.fileExists(movedCopy)).toBe(true);
  });

  it('a copy no conflict names (killed between writing it and recording it) is adopted at the next start', async () => {
    const a = await lab.start('a');
    await a.fs.writeFile('/notes.md', 'kept in place\n');
    await lab.settle(a);
    await a.stop();
    const copyPath = '/notes.sync-conflict-20260101-000000-disk.md';
    await writeFile(join(lab.dir, 'a', copyPath), 'the version beside it\n');
    const restarted = await lab.start('a');
    await restarted.sync!.idle();
    expect(await restarted.sync!.conflicts()).toEqual([
      expect.objectContaining({ path: '/notes.md', copyPath, remoteSnippet: 'the version beside it\n', localSnippet: 'kept in place\n' }),
    ]);
    await restarted.fs.deleteFile(copyPath); // resolved the way an agent does it
    await restarted.sync!.idle();
    expect(await restarted.sync!.conflicts()).toEqual([]);
  });

  /** b ends up with an open conflict on /docs/blob.bin: a's side in the copy, b's in the file. */
  async function binaryConflict() {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/docs/blob.bin', new Uint8Array([0]));
    await lab.settle(a, b);
    await lab.editConcurrently(b, a, async () => {
      await a.fs.writeFile('/docs/blob.bin', new Uint8Array([0, 0xaa]));
      await b.fs.writeFile('/docs/blob.bin', new Uint8Array([0, 0xbb]));
    });
    const { conflict } = await nextEvent(b, 'conflict');
    await b.fs.flushAll();
    return { a, b, copyPath: conflict.copyPath };
  }

  it('a corrupt state file leads to a safe full reconciliation, never to data loss', async () => {
    let a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/same.md', 'same');
    await a.fs.writeFile('/mine.md', 'base');
    await lab.settle(a, b);
    await a.stop();
    // While a is down: b edits one file, a's disk copy of another changes, a's state is trashed.
    await b.fs.writeFile('/same.md', 'changed by b');
    await b.sync!.idle();
    await writeFile(join(lab.dir, 'a', 'mine.md'), 'edited while the state was lost');
    for (const name of await readdir(join(lab.dir, 'a', '.scopefs'))) {
      if (name.startsWith('sync-state.db')) await writeFile(join(lab.dir, 'a', '.scopefs', name), 'garbage, not a database');
    }
    a = await lab.start('a');
    await lab.settle(a, b);
    // Without bases, differing files become conflicts: both versions are kept.
    const conflicts = await a.sync!.conflicts();
    expect(conflicts.map((c) => c.path).sort()).toEqual(['/mine.md', '/same.md']);
    expect(await a.fs.readFile('/mine.md')).toBe('edited while the state was lost');
    const copy = conflicts.find((c) => c.path === '/same.md')!.copyPath;
    expect(await a.fs.readFile(copy)).toBe('changed by b');
    expect((await readdir(join(lab.dir, 'a', '.scopefs'))).some((n) => n.includes('.corrupt-'))).toBe(true);
  });

  it('a missing state file starts a full reconciliation that pushes nothing twice', async () => {
    let a = await lab.start('a');
    await a.fs.writeFile('/x.md', 'x');
    await a.sync!.idle();
    await a.stop();
    for (const name of await readdir(join(lab.dir, 'a', '.scopefs'))) {
      if (name.startsWith('sync-state.db')) await writeFile(join(lab.dir, 'a', '.scopefs', name), '');
    }
    expect(existsSync(join(lab.dir, 'a', 'x.md'))).toBe(true);
    a = await lab.start('a');
    await a.sync!.idle();
    expect(await a.sync!.conflicts()).toEqual([]);
    expect(await store.head('lab')).toBe(1);
  });

  it('a file over the sync size limit gets a failure record and blocks nothing else', async () => {
    const a = await lab.start('a', { maxFileBytes: 1024 });
    await a.fs.writeFile('/big.bin', new Uint8Array(4096));
    await a.fs.writeFile('/small.md', 'ok');
    await a.sync!.idle();
    const status = await a.sync!.status();
    expect(status.failedPaths).toEqual(['/big.bin']);
    expect(await store.get('lab', SHARED_OWNER, '/big.bin')).toBeNull();
    expect((await store.get('lab', SHARED_OWNER, '/small.md'))?.deleted).toBe(false);
    // The failure log is on disk beside the files (not in the scope), rewritten a few times a second at most.
    await a.stop(); // stopping lands the last report
    const failures = JSON.parse(await readFile(join(a.dir, '.sync-failures.json'), 'utf8'));
    expect(failures.at(-1)).toMatchObject({ path: '/big.bin', error: expect.stringMatching(/EFBIG/) });
  });

  it('a store row whose content does not match its hash is refused', async () => {
    const a = await lab.start('a');
    await store.push('lab', 'evil', [
      { owner: SHARED_OWNER, path: '/tampered.md', baseRevision: 0, content: new TextEncoder().encode('payload'), hash: 'f'.repeat(64) },
    ]);
    await nextEvent(a, 'sync_state', (e) => e.state === 'live');
    await a.sync!.idle();
    expect(await a.fs.fileExists('/tampered.md')).toBe(false);
    expect((await a.sync!.status()).failedPaths).toEqual(['/tampered.md']);
  });
});
