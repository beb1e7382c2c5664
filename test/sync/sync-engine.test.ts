import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import { SyncLab, nextEvent } from '../helpers/sync-scopes.js';

describe('sync engine (in-process instances, memory store)', () => {
  let store: MemoryStore;
  let lab: SyncLab;

  beforeEach(async () => {
    store = new MemoryStore();
    lab = await SyncLab.create(store);
  });
  afterEach(() => lab.remove());

  it('pushes a local write and applies it on the other instance with origin sync', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    const seen: string[] = [];
    b.fs.subscribe((e) => {
      if (e.type === 'file_updated') seen.push(`${e.origin}:${e.path}`);
    });
    await a.fs.writeFile('/notes/hello.md', 'hello');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/notes/hello.md')).toBe('hello');
    expect(seen).toContain('sync:/notes/hello.md');
    await b.fs.flushAll();
    expect(await readFile(join(b.dir, 'notes/hello.md'), 'utf8')).toBe('hello');
  });

  it('pushes local-only files and pulls remote-only files at startup', async () => {
    const a = await lab.start('a');
    await a.fs.writeFile('/from-a.md', 'A');
    await a.sync!.idle();
    await mkdir(join(lab.dir, 'b'), { recursive: true });
    await writeFile(join(lab.dir, 'b', 'from-b.md'), 'B');
    const b = await lab.start('b');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/from-a.md')).toBe('A');
    expect(await a.fs.readFile('/from-b.md')).toBe('B');
  });

  it('merges concurrent text edits with diff3', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/doc.md', 'one\ntwo\nthree\nfour\nfive\n');
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/doc.md', 'one A\ntwo\nthree\nfour\nfive\n');
      await b.fs.writeFile('/doc.md', 'one\ntwo\nthree\nfour\nfive B\n');
    });
    await lab.settle(a, b);
    const merged = 'one A\ntwo\nthree\nfour\nfive B\n';
    expect(await a.fs.readFile('/doc.md')).toBe(merged);
    expect(await b.fs.readFile('/doc.md')).toBe(merged);
    expect((await a.sync!.status()).conflicts).toEqual([]);
  });

  it('merges JSON by key and JSONL by appended lines', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/state.json', '{"x":1,"y":1}\n');
    await a.fs.writeFile('/log.jsonl', '{"n":0}\n');
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/state.json', '{"x":2,"y":1}\n');
      await a.fs.appendFile('/log.jsonl', '{"n":"a"}\n');
      await b.fs.writeFile('/state.json', '{"x":1,"y":3}\n');
      await b.fs.appendFile('/log.jsonl', '{"n":"b"}\n');
    });
    await lab.settle(a, b);
    expect(JSON.parse(await b.fs.readFile('/state.json'))).toEqual({ x: 2, y: 3 });
    const lines = (await b.fs.readFile('/log.jsonl')).trim().split('\n');
    expect(lines.sort()).toEqual(['{"n":"a"}', '{"n":"b"}', '{"n":0}'].sort());
    expect(await a.fs.readFile('/log.jsonl')).toBe(await b.fs.readFile('/log.jsonl'));
  });

  it('records a conflict: local stays, remote beside it, report and event; resolving pushes', async () => {
    const { a, b, conflict } = await lab.conflictOnC();
    expect(conflict.conflict.path).toBe('/c.json');
    // Named for whose content it holds: b's.
    expect(conflict.conflict.copyPath).toMatch(/^\/c\.sync-conflict-\d{8}-\d{6}-b\.json$/);
    expect(await a.fs.readFile('/c.json')).toBe('{"v":"a"}');
    expect(await a.fs.readFile(conflict.conflict.copyPath)).toBe('{"v":"b"}');
    const report = JSON.parse(await a.fs.readFile('/application-state/sync-conflict.json'));
    expect(report).toMatchObject([{ type: 'conflict-needs-llm', path: '/c.json', localSnippet: '{"v":"a"}', remoteSnippet: '{"v":"b"}' }]);
    expect((await a.sync!.status()).conflicts).toEqual(['/c.json']);
    // The conflict copy never reaches the store.
    expect(await store.get('lab', SHARED_OWNER, conflict.conflict.copyPath)).toBeNull();

    await a.sync!.resolveConflict('/c.json', 'local');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/c.json')).toBe('{"v":"a"}');
    expect(await a.fs.fileExists(conflict.conflict.copyPath)).toBe(false);
    expect(await a.fs.fileExists('/application-state/sync-conflict.json')).toBe(false);
    expect((await a.sync!.status()).conflicts).toEqual([]);
  });

  it('an agent resolves a conflict by editing the file and deleting the copy', async () => {
    const { a, b, conflict: event } = await lab.conflictOnC();
    const conflict = event.conflict;
    await a.fs.writeFile('/c.json', '{"v":"ab"}');
    await a.fs.deleteFile(conflict.copyPath);
    await nextEvent(a, 'conflict_resolved', (e) => e.path === '/c.json');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/c.json')).toBe('{"v":"ab"}');
  });

  it('resolves a conflict with the remote version or explicit content', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    for (const name of ['/r.json', '/c.json']) await a.fs.writeFile(name, '{"v":0}');
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      for (const name of ['/r.json', '/c.json']) {
        await a.fs.writeFile(name, '{"v":"a"}');
        await b.fs.writeFile(name, '{"v":"b"}');
      }
    });
    await nextEvent(a, 'conflict', (e) => e.conflict.path === '/c.json');
    await nextEvent(a, 'conflict', (e) => e.conflict.path === '/r.json');
    await a.sync!.resolveConflict('/r.json', 'remote');
    await a.sync!.resolveConflict('/c.json', { content: '{"v":"both"}' });
    await lab.settle(a, b);
    expect(await a.fs.readFile('/r.json')).toBe('{"v":"b"}');
    expect(await b.fs.readFile('/c.json')).toBe('{"v":"both"}');
    await expect(a.sync!.resolveConflict('/r.json', 'local')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a remote delete racing an unpushed local edit: the edit survives and comes back', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/keep.md', 'v1');
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/keep.md', 'v2 edited offline');
      await b.fs.deleteFile('/keep.md');
    });
    await lab.settle(a, b);
    expect(await a.fs.readFile('/keep.md')).toBe('v2 edited offline');
    expect(await b.fs.readFile('/keep.md')).toBe('v2 edited offline');
  });

  it('a local delete propagates, and a delete racing a remote edit brings the file back', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await a.fs.writeFile('/gone.md', 'x');
    await a.fs.writeFile('/back.md', 'x');
    for (let i = 0; i < 6; i++) await a.fs.writeFile(`/other-${i}.md`, 'o');
    await lab.settle(a, b);
    await a.fs.deleteFile('/gone.md');
    await lab.settle(a, b);
    expect(await b.fs.fileExists('/gone.md')).toBe(false);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.deleteFile('/back.md');
      await b.fs.writeFile('/back.md', 'edited remotely');
    });
    await lab.settle(a, b);
    expect(await a.fs.readFile('/back.md')).toBe('edited remotely');
  });

  it('syncs binary content byte for byte', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    const bytes = new Uint8Array(256 * 4).map((_, i) => i % 256);
    await a.fs.writeFile('/img.bin', bytes);
    await lab.settle(a, b);
    expect(Buffer.from(await b.fs.readFile('/img.bin', { encoding: 'bytes' }))).toEqual(Buffer.from(bytes));
  });

  it('never pushes denylisted files or engine files', async () => {
    const a = await lab.start('a');
    const secrets = ['/.env', '/config/.env.local', '/keys/server.KEY', '/Service-Account (1).json', '/.ssh/id_rsa', '/_tmp-scratch.md', '/x/node_modules/p.js'];
    for (const path of secrets) await a.fs.writeFile(path, 'secret');
    await a.fs.writeFile('/ok.md', 'fine');
    await a.sync!.idle();
    const page = await store.since('lab', [SHARED_OWNER], 0);
    expect(page.rows.map((r) => r.path)).toEqual(['/ok.md']);
  });

  it('syncs private files under the owner id, invisible to another user', async () => {
    const config = JSON.stringify({ syncFilePatterns: ['**'], privateSyncFilePatterns: ['private/**'] });
    const alice = await lab.start('alice', { userId: 'alice' });
    const alice2 = await lab.start('alice2', { userId: 'alice' });
    const bob = await lab.start('bob', { userId: 'bob' });
    for (const s of [alice, alice2, bob]) await s.fs.writeFile('/sync-config.json', config);
    await alice.fs.writeFile('/private/diary.md', 'dear diary');
    await alice.fs.writeFile('/shared.md', 'for all');
    await lab.settle(alice, alice2, bob);
    expect(await alice2.fs.readFile('/private/diary.md')).toBe('dear diary');
    expect(await bob.fs.fileExists('/private/diary.md')).toBe(false);
    expect(await bob.fs.readFile('/shared.md')).toBe('for all');
    expect((await store.get('lab', 'alice', '/private/diary.md'))?.owner).toBe('alice');
    expect(await store.get('lab', SHARED_OWNER, '/private/diary.md')).toBeNull();
  });

  it('pauses on a malformed sync-config.json and resumes once it is fixed', async () => {
    const a = await lab.start('a');
    await a.fs.writeFile('/sync-config.json', '{"syncFilePatterns": 42');
    await nextEvent(a, 'sync_state', (e) => e.state === 'paused');
    const status = await a.sync!.status();
    expect(status.state).toBe('paused');
    expect(status.pausedReason).toMatch(/sync-config\.json/);
    await a.fs.writeFile('/not-synced-yet.md', 'x');
    expect(await store.get('lab', SHARED_OWNER, '/not-synced-yet.md')).toBeNull();
    await a.fs.writeFile('/sync-config.json', '{"syncFilePatterns": ["**/*.md"]}');
    await a.sync!.idle();
    expect((await store.get('lab', SHARED_OWNER, '/not-synced-yet.md'))?.deleted).toBe(false);
  });

  it('the safety gate pauses a mass deletion until confirmed', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    for (let i = 0; i < 10; i++) await a.fs.writeFile(`/f${i}.md`, `file ${i}`);
    await lab.settle(a, b);
    // One change, so one pass sees all eight: deletes made one by one may each
    // reach a pass of their own when the machine is slow, and one of ten is
    // no mass deletion.
    await b.fs.applyBatch(Array.from({ length: 8 }, (_, i) => ({ path: `/f${i}.md`, delete: true as const })));
    const paused = await nextEvent(b, 'sync_state', (e) => e.state === 'paused');
    expect(paused.reason).toMatch(/delet/i);
    expect((await store.get('lab', SHARED_OWNER, '/f0.md'))?.deleted).toBe(false);
    await b.sync!.confirm();
    await lab.settle(a, b);
    expect(await a.fs.listFiles('/')).toEqual(expect.arrayContaining(['/f8.md', '/f9.md']));
    expect(await a.fs.fileExists('/f0.md')).toBe(false);
  });

  it('moving most files to another folder is not a mass deletion', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    for (let i = 0; i < 10; i++) await a.fs.writeFile(`/old/f${i}.md`, `file ${i}`);
    await lab.settle(a, b);
    await a.fs.moveFile('/old', '/new');
    await lab.settle(a, b);
    expect((await a.sync!.status()).state).toBe('live');
    expect(await b.fs.listFiles('/new')).toHaveLength(10);
    expect(await b.fs.listFiles('/old')).toEqual([]);
  });

  it('keeps working offline and catches up when the store is back', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await lab.settle(a, b);
    store.setOffline(true);
    await a.fs.writeFile('/offline.md', 'written offline');
    await nextEvent(a, 'sync_state', (e) => e.state === 'backing_off');
    expect(await a.fs.readFile('/offline.md')).toBe('written offline');
    expect((await a.sync!.status()).connected).toBe(false);
    store.setOffline(false);
    await lab.settle(a, b);
    expect(await b.fs.readFile('/offline.md')).toBe('written offline');
  });

  it('a crashed sync actor restarts without losing filesystem state or pending changes', async () => {
    const a = await lab.start('a');
    const b = await lab.start('b');
    await lab.settle(a, b);
    await a.sync!.pause();
    await a.fs.writeFile('/pending.md', 'not pushed yet');
    const restarted = new Promise<void>((resolve) =>
      a.supervisor.onChildEvent((e) => e.type === 'restarted' && e.id === 'sync' && resolve()),
    );
    a.supervisor.child('sync')!.exit(new Error('injected crash'));
    await restarted;
    expect(await a.fs.readFile('/pending.md')).toBe('not pushed yet');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/pending.md')).toBe('not pushed yet');
    expect(a.tree().find((c) => c.id === 'sync')?.restarts).toBe(1);
  });

  it('writes .sync-status.json on disk for people and agents, outside the scope', async () => {
    const a = await lab.start('a');
    await a.fs.writeFile('/x.md', 'x');
    await a.sync!.idle();
    const status = await a.sync!.status();
    expect(status).toMatchObject({ enabled: true, state: 'live', connected: true, conflicts: [], failedPaths: [] });
    expect(await a.fs.listFiles('/')).toEqual(['/x.md']);
    await a.stop(); // stopping lands the last status
    const onDisk = JSON.parse(await readFile(join(a.dir, '.sync-status.json'), 'utf8'));
    expect(onDisk).toEqual({ ...status, state: 'stopped', connected: false });
    expect(existsSync(join(a.dir, '.scopefs', 'sync-state.db'))).toBe(true);
  });
});
