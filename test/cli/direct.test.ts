import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import { SQLITE_SCHEMA_VERSION } from '../../persistence/sql/sqlite-schema.js';

let dir: string;
let root: string;
let at: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-cli-'));
  root = join(dir, 'ws');
  await mkdir(root);
  at = ['--root', root];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CLI without a running serve (opens the scope directly)', () => {
  it('writes from a file and from stdin, reads exact bytes back, lists, moves and deletes', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    await writeFile(join(dir, 'input.bin'), bytes);
    const fromFile = await runCli(['write', '/data/all.bin', '--from', join(dir, 'input.bin'), ...at]);
    expect(fromFile).toMatchObject({ code: 0, stderr: '' });
    expect(fromFile.stdout.toString()).toMatch(/^wrote 256 bytes to \/data\/all\.bin \(revision \d+\)\n$/);
    expect(await readFile(join(root, 'data', 'all.bin'))).toEqual(bytes);

    const fromStdin = await runCli(['write', '/notes/a.md', '--json', ...at], { input: '# A\n' });
    expect(JSON.parse(fromStdin.stdout.toString())).toMatchObject({ path: '/notes/a.md', size: 4 });

    const [cat, catJson, ls] = await Promise.all([
      runCli(['cat', '/data/all.bin', ...at]),
      runCli(['cat', '/data/all.bin', '--json', ...at]),
      runCli(['ls', '--json', ...at]),
    ]);
    expect([...cat.stdout], cat.stderr).toEqual([...bytes]);
    expect(JSON.parse(catJson.stdout.toString())).toMatchObject({ encoding: 'base64', content: bytes.toString('base64'), size: 256 });
    expect(JSON.parse(ls.stdout.toString()).map((f: { path: string }) => f.path)).toEqual(['/data/all.bin', '/notes/a.md']);

    expect((await runCli(['mv', '/notes', '/archive', ...at])).stdout.toString()).toBe('moved /notes/a.md -> /archive/a.md\n');
    expect((await runCli(['rm', '/archive/a.md', ...at])).code).toBe(0);
    const after = await runCli(['ls', ...at]);
    expect(after.stdout.toString()).toMatch(/^\s+256 {2}\S+ {2}\/data\/all\.bin\n$/);
  }, 60_000);

  it('fails with exit code 1 and the typed error', async () => {
    const [missing, missingJson, stale, noRoot, flush, badStore] = await Promise.all([
      runCli(['cat', '/nope.txt', ...at]),
      runCli(['cat', '/nope.txt', '--json', ...at]),
      runCli(['write', '/data/all.bin', '--if-revision', '0', ...at], { input: 'x' }),
      runCli(['ls', '--root', join(dir, 'does-not-exist')]),
      runCli(['flush', '--json', ...at]),
      runCli(['serve', '--store', 'mysql://root:hunter2@db/x', '--port', '0', ...at]),
    ]);
    expect(badStore.code).toBe(1);
    expect(badStore.stderr).toMatch(/unknown store scheme "mysql:"/);
    expect(badStore.stderr).not.toContain('hunter2');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('scopefs: ENOENT: no such file "/nope.txt"\n');
    expect(missingJson.code).toBe(1);
    expect(JSON.parse(missingJson.stderr)).toEqual({ error: { code: 'ENOENT', message: 'ENOENT: no such file "/nope.txt"' } });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/ESTALE/);
    expect(noRoot.code).toBe(1);
    expect(noRoot.stderr).toMatch(/no workspace at/);
    expect(flush.code).toBe(0);
    expect(JSON.parse(flush.stdout.toString())).toEqual({ flushed: [], failed: [] });
  }, 60_000);

  it('answers usage mistakes with exit code 2', async () => {
    const results = await Promise.all([
      runCli(['ls', '--bogus', ...at]),
      runCli(['resolve', '/a.txt', ...at]),
      runCli(['resolve', '/a.txt', '--keep', 'theirs', ...at]),
      runCli(['serve', '--no-auth', '--host', '0.0.0.0', '--port', '0', ...at]),
      runCli(['serve', '--port', '99999', ...at]),
      runCli(['frobnicate']),
    ]);
    for (const result of results) expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 2, stderr: expect.any(String) });
    expect(results[3]!.stderr).toMatch(/--no-auth is only allowed on loopback/);
    expect((await runCli(['--help'])).code).toBe(0);
  }, 60_000);

  it('status works without sync; migrate creates the sqlite schema', async () => {
    const store = `sqlite:${join(dir, 'store', 'scopefs.db')}`;
    const [status, migrate] = await Promise.all([
      runCli(['status', '--json', ...at]),
      runCli(['migrate', '--store', store, '--json']),
    ]);
    expect(JSON.parse(status.stdout.toString())).toMatchObject({ via: 'direct', sync: { enabled: false }, files: { total: 1 } });
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.stdout.toString())).toEqual({ store, to: SQLITE_SCHEMA_VERSION });
    expect((await readFile(join(dir, 'store', 'scopefs.db'))).subarray(0, 15).toString()).toBe('SQLite format 3');
  }, 60_000);

  it('migrate of a supabase: store without DATABASE_URL says what is missing', async () => {
    const result = await runCli(['migrate', '--store', 'supabase:']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DATABASE_URL/);
  });
});
