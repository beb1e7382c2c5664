/**
 * The published package, as a user gets it: `npm pack`, `npm ci` of the
 * tarball into a fresh project, then
 *
 * - the README's TypeScript examples and an import of every subpath export
 *   pass `tsc --strict` with `skipLibCheck: false`, over every published
 *   .d.ts, with no @types package but @types/node;
 * - every `exports` target is in the tarball, and each entry imports in node;
 * - the main entry exports no internals, and loads neither `pg`, supabase-js
 *   nor the MCP SDK (they are behind `scopefs/postgres`, `scopefs/supabase`,
 *   `scopefs/http` and `scopefs/mcp`).
 *
 * No step is ever skipped: a missing tool or a failed install fails the test.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, buildAndPack, filesUnder, installIntoProject, run, staticPackages, typecheckProject, typescriptBlocks } from './pack-helpers.js';

interface Manifest {
  repository?: unknown;
  homepage?: unknown;
  bugs?: unknown;
  exports: Record<string, string | { types?: string; import?: string }>;
  bin: Record<string, string>;
}

const SETUP_TIMEOUT_MS = 300_000;

describe('the packed package', () => {
  let work: string;
  let project: string;
  let installed: string;
  let manifest: Manifest;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'scopefs-pack-'));
    project = join(work, 'project');
    const tarball = await buildAndPack(join(work, 'stage'));
    await run('mkdir', ['-p', project], work);
    await installIntoProject(project, tarball);
    installed = join(project, 'node_modules', 'scopefs');
    manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Manifest;
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships every exports target and the bin, with the SQL migrations', async () => {
    const files = new Set(await filesUnder(installed));
    const targets = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    expect(Object.keys(manifest.exports)).toEqual(expect.arrayContaining(['.', './postgres', './supabase', './http', './mcp']));
    for (const target of [...targets, ...Object.values(manifest.bin)]) expect(files, target).toContain(target.replace(/^\.\//, ''));
    expect([...files].filter((file) => /^persistence\/sql\/migrations\/\d+_\w+\.sql$/.test(file)).length).toBeGreaterThanOrEqual(4);
    expect([...files].some((file) => file.startsWith('test/') || file.startsWith('bench/'))).toBe(false);
  });

  it('publishes the build, the migrations, README, LICENSE and package.json, and no example, test or bench code', async () => {
    const files = (await filesUnder(installed)).filter((file) => !file.startsWith('node_modules/'));
    const outside = files.filter(
      (file) => !['package.json', 'README.md', 'LICENSE'].includes(file) && !file.startsWith('dist/') && !file.startsWith('persistence/sql/migrations/'),
    );
    expect(outside).toEqual([]);
    expect(files.filter((file) => /(^|\/)(examples|test|bench)\//.test(file))).toEqual([]);
    const license = await readFile(join(installed, 'LICENSE'), 'utf8');
    const { license: declared } = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { license: string };
    expect(declared).toBe('MIT');
    expect(license).toMatch(/^MIT License\n/);
    expect(manifest).toMatchObject({ repository: { type: 'git' }, homepage: expect.stringMatching(/^https:/), bugs: { url: expect.stringMatching(/^https:/) } });
  });

  it('compiles the README examples and every published .d.ts under tsc --strict without skipLibCheck', async () => {
    const blocks = typescriptBlocks(await readFile(join(REPO, 'README.md'), 'utf8'));
    expect(blocks.filter((block) => block.includes("from 'scopefs'")).length).toBeGreaterThanOrEqual(2);
    await Promise.all(blocks.map((block, i) => writeFile(join(project, `readme-${i + 1}.ts`), block)));
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== './package.json');
    const imports = subpaths.map((key, i) => `import * as entry${i} from '${key.replace(/^\./, 'scopefs')}';`);
    await writeFile(join(project, 'entries.ts'), `${imports.join('\n')}\nexport const entries = [${subpaths.map((_, i) => `entry${i}`).join(', ')}];\n`);
    await typecheckProject(project);
  }, 300_000);

  it('imports each entry in node; the main entry loads no SQL, HTTP, MCP or sync engine code', async () => {
    const subpaths = ['scopefs', 'scopefs/postgres', 'scopefs/supabase', 'scopefs/http', 'scopefs/mcp'];
    const script = `
      const names = {};
      for (const entry of ${JSON.stringify(subpaths)}) names[entry] = Object.keys(await import(entry));
      console.log(JSON.stringify(names));`;
    const loaded = JSON.parse(await run(process.execPath, ['--input-type=module', '-e', script], project)) as Record<string, string[]>;
    const main = loaded.scopefs!;
    expect(main).toEqual(expect.arrayContaining(['startScope', 'createFileSync', 'openStore', 'ScopeFsError', 'SqliteStore', 'MemoryStore', 'Registry']));
    const internals = ['raceTimeout', 'toError', 'fsErrors', 'errorMessage', 'DEFAULT_CALL_TIMEOUT_MS', 'DEFAULT_SHUTDOWN_MS'];
    const elsewhere = ['PostgresStore', 'migrate', 'SupabaseStore', 'startHttpServer', 'createMcpServer', 'serveStdio'];
    for (const name of [...internals, ...elsewhere]) expect(main, name).not.toContain(name);
    expect(loaded['scopefs/postgres']).toEqual(expect.arrayContaining(['PostgresStore', 'migrate']));
    expect(loaded['scopefs/supabase']).toEqual(['SupabaseStore']);
    expect(loaded['scopefs/http']).toEqual(expect.arrayContaining(['startHttpServer', 'loadOrCreateToken']));
    expect(loaded['scopefs/mcp']).toEqual(expect.arrayContaining(['createMcpServer', 'serveStdio', 'bridgeStdioToHttp']));

    const entry = (name: string) => join(installed, 'dist', 'src', name);
    const mainPackages = await staticPackages(entry('index.js'));
    // The sync engine (zod, xstate) loads on the first startScope, not on import.
    for (const heavy of ['pg', '@supabase/supabase-js', '@modelcontextprotocol/sdk', 'zod', 'xstate']) expect(mainPackages, heavy).not.toContain(heavy);
    expect(await staticPackages(entry('entries/postgres.js'))).toContain('pg');
    expect(await staticPackages(entry('entries/supabase.js'))).toContain('@supabase/supabase-js');
    expect(await staticPackages(entry('entries/mcp.js'))).toContain('@modelcontextprotocol/sdk');
  }, 60_000);
});
