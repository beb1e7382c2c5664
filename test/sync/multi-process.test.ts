import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInstance, type Instance, type InstanceConfig } from '../helpers/instance.js';

/**
 * Separate OS processes sharing one SQLite store file: the embedded default
 * for several instances on one machine.
 */
describe('multi-process sync through one SQLite file', () => {
  let dir: string;
  let storePath: string;
  const running: Instance[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-mp-'));
    storePath = join(dir, 'store.db');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((i) => i.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  async function start(name: string, extra: Partial<InstanceConfig> = {}): Promise<Instance> {
    const instance = await startInstance({ root: join(dir, name), store: `sqlite:${storePath}`, instanceId: name, ...extra });
    running.push(instance);
    return instance;
  }

  async function settle(...instances: Instance[]): Promise<void> {
    for (let round = 0; round < 2; round++) for (const i of instances) await i.call('idle');
  }

  function storeRows(): Array<{ owner: string; path: string; deleted: number }> {
    const db = new Database(storePath, { readonly: true });
    try {
      return db.prepare('SELECT owner, path, deleted FROM scopefs_files ORDER BY path').all() as Array<{ owner: string; path: string; deleted: number }>;
    } finally {
      db.close();
    }
  }

  it('converges after concurrent edits from three processes', async () => {
    const [a, b, c] = await Promise.all([start('a'), start('b'), start('c')]);
    await a.call('write', { path: '/shared.md', content: 'l1\nl2\nl3\nl4\nl5\nl6\nl7\n' });
    await settle(a, b, c);
    await Promise.all([
      a.call('write', { path: '/shared.md', content: 'l1 a\nl2\nl3\nl4\nl5\nl6\nl7\n' }),
      b.call('write', { path: '/shared.md', content: 'l1\nl2\nl3\nl4 b\nl5\nl6\nl7\n' }),
      c.call('write', { path: '/shared.md', content: 'l1\nl2\nl3\nl4\nl5\nl6\nl7 c\n' }),
      ...[a, b, c].map((i, n) => i.call('write', { path: `/own-${n}.md`, content: `from ${n}` })),
    ]);
    await settle(a, b, c);
    const views = await Promise.all([a, b, c].map(async (i) => ({
      files: (await i.call<string[]>('list')).filter((p) => !p.startsWith('/.sync')),
      shared: await i.call<string>('read', { path: '/shared.md' }),
    })));
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    expect(views[0]!.files).toEqual(expect.arrayContaining(['/own-0.md', '/own-1.md', '/own-2.md', '/shared.md']));
    // Either a clean three-way merge of all edits or a recorded conflict: never a silent loss.
    const conflicts = (await Promise.all([a, b, c].map((i) => i.call<unknown[]>('conflicts')))).flat();
    if (conflicts.length === 0) expect(views[0]!.shared).toBe('l1 a\nl2\nl3\nl4 b\nl5\nl6\nl7 c\n');
  });

  it('merges edits made on both sides while offline, after reconnecting', async () => {
    let a = await start('a');
    let b = await start('b');
    await a.call('write', { path: '/notes.md', content: 'alpha\nbeta\ngamma\ndelta\nepsilon\n' });
    await a.call('write', { path: '/state.json', content: '{"a":0,"b":0}' });
    await settle(a, b);
    await a.call('stop');
    await b.call('stop');
    // Offline: other programs edit both roots on disk.
    await writeFile(join(dir, 'a', 'notes.md'), 'alpha A\nbeta\ngamma\ndelta\nepsilon\n');
    await writeFile(join(dir, 'b', 'notes.md'), 'alpha\nbeta\ngamma\ndelta\nepsilon B\n');
    await writeFile(join(dir, 'a', 'state.json'), '{"a":1,"b":0}');
    await writeFile(join(dir, 'b', 'state.json'), '{"a":0,"b":2}');
    a = await start('a');
    b = await start('b');
    await settle(a, b);
    for (const i of [a, b]) {
      expect(await i.call('read', { path: '/notes.md' })).toBe('alpha A\nbeta\ngamma\ndelta\nepsilon B\n');
      expect(JSON.parse(await i.call<string>('read', { path: '/state.json' }))).toEqual({ a: 1, b: 2 });
    }
  });

  it('a restart between an edit and its sync: the edit is pushed after the restart', async () => {
    let a = await start('a');
    const b = await start('b');
    await a.call('write', { path: '/doc.md', content: 'v1' });
    await settle(a, b);
    await a.call('pause');
    await a.call('write', { path: '/doc.md', content: 'v2 before the crash' });
    await a.kill('SIGKILL');
    a = await start('a');
    await settle(a, b);
    expect(await b.call('read', { path: '/doc.md' })).toBe('v2 before the crash');
    expect(await a.call('conflicts')).toEqual([]);
  });

  it('a remote delete racing an unpushed local edit: the edit survives', async () => {
    let a = await start('a');
    const b = await start('b');
    await a.call('write', { path: '/race.md', content: 'original' });
    await settle(a, b);
    await a.call('pause');
    await a.call('write', { path: '/race.md', content: 'edited, not yet pushed' });
    await b.call('delete', { path: '/race.md' });
    await b.call('idle');
    await a.kill('SIGKILL');
    a = await start('a');
    await settle(a, b);
    expect(await a.call('read', { path: '/race.md' })).toBe('edited, not yet pushed');
    expect(await b.call('read', { path: '/race.md' })).toBe('edited, not yet pushed');
  });

  it('pushes the first edit after a startup pull, and local-only files found at startup', async () => {
    const a = await start('a');
    await a.call('write', { path: '/from-a.md', content: 'a' });
    await a.call('idle');
    await mkdir(join(dir, 'b', 'docs'), { recursive: true });
    await writeFile(join(dir, 'b', 'docs', 'local-only.md'), 'made before b ever synced');
    const b = await start('b');
    await settle(a, b);
    expect(await b.call('read', { path: '/from-a.md' })).toBe('a');
    expect(await a.call('read', { path: '/docs/local-only.md' })).toBe('made before b ever synced');
    await b.call('write', { path: '/from-a.md', content: 'first edit after the pull' });
    await settle(b, a);
    expect(await a.call('read', { path: '/from-a.md' })).toBe('first edit after the pull');
  });

  it('round-trips binary files byte for byte', async () => {
    const [a, b] = await Promise.all([start('a'), start('b')]);
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) % 256));
    await a.call('write', { path: '/blob.bin', base64: bytes.toString('base64') });
    await settle(a, b);
    expect(Buffer.from(await b.call<string>('readBase64', { path: '/blob.bin' }), 'base64')).toEqual(bytes);
    await b.call('flush');
    expect(await readFile(join(dir, 'b', 'blob.bin'))).toEqual(bytes);
  });

  it('syncs 1,000 files on initial sync into a fresh instance', async () => {
    await mkdir(join(dir, 'a', 'many'), { recursive: true });
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => writeFile(join(dir, 'a', 'many', `f${i}.md`), `file ${i}\n`)),
    );
    const a = await start('a');
    await a.call('idle');
    const b = await start('b');
    await b.call('idle');
    const files = await b.call<string[]>('list', { prefix: '/many' });
    expect(files).toHaveLength(1000);
    expect(await b.call('read', { path: '/many/f999.md' })).toBe('file 999\n');
  });

  it('keeps private files invisible to another owner', async () => {
    const config = JSON.stringify({ syncFilePatterns: ['**'], privateSyncFilePatterns: ['me/**'] });
    for (const name of ['alice', 'bob']) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, 'sync-config.json'), config);
    }
    const alice = await start('alice', { userId: 'alice' });
    const bob = await start('bob', { userId: 'bob' });
    await alice.call('write', { path: '/me/secret-plan.md', content: 'alice only' });
    await alice.call('write', { path: '/team.md', content: 'everyone' });
    await settle(alice, bob);
    expect(await bob.call('exists', { path: '/me/secret-plan.md' })).toBe(false);
    expect(await bob.call('read', { path: '/team.md' })).toBe('everyone');
    expect(storeRows().find((r) => r.path === '/me/secret-plan.md')?.owner).toBe('alice');
  });

  it('never lets denylisted secrets reach the store (checked in the database itself)', async () => {
    const a = await start('a');
    const secrets = ['/.env', '/app/.env.production', '/certs/tls.pem', '/deploy/credentials.json', '/.aws/config', '/Service-Account (1).json', '/db/data.sqlite', '/.git/HEAD'];
    for (const path of secrets) await a.call('write', { path, content: 'TOP SECRET' });
    await a.call('write', { path: '/readme.md', content: 'public' });
    await a.call('idle');
    const db = new Database(storePath, { readonly: true });
    const leaked = db.prepare("SELECT path FROM scopefs_files WHERE CAST(content AS TEXT) LIKE '%TOP SECRET%'").all();
    db.close();
    expect(leaked).toEqual([]);
    expect(storeRows().map((r) => r.path)).toEqual(['/readme.md']);
  });
});
