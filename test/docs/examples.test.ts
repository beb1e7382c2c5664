/**
 * Every ```ts / ```js block of the README and docs/*.md runs, as a reader
 * would paste it: in a fresh temp directory (so `./workspace` is new), with
 * `scopefs` mapped to the sources (tsconfig paths, as vitest.config.ts does),
 * under tsx; afterwards every scope it left running is stopped. All blocks
 * are type-checked together under the repo's `strict` tsconfig. Blocks
 * marked ```ts no-run are fragments and skipped (see blocks.ts). Shell
 * blocks are not run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsBlocks, type CodeBlock } from './blocks.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const RUN_TIMEOUT_MS = 60_000;

/**
 * Blocks in files only the lead edits that are known to fail, with the
 * failure they show and the fix (in /tmp/helpers/agents-mcp-notes.md). Once
 * the block is fixed it no longer matches `contains` and runs like the rest.
 */
const KNOWN_BROKEN: Array<{ file: string; contains: string; fails: RegExp }> = [];

const blocks = await docsBlocks(REPO);
const runnable = blocks.filter((block) => !block.noRun);
const nameOf = (block: CodeBlock) => `${block.file}:${block.line}`;
let work: string;

function exec(args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  // No FILE_SYNC_* from the environment: the factory example must see a clean one.
  const env = { ...process.env, FILE_SYNC_ENABLED: '', FILE_SYNC_BACKEND: '', TSX_TSCONFIG_PATH: join(work, 'tsconfig.json') };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: timeoutMs, env }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** A directory where `scopefs` and the repo's dependencies resolve, for tsx and tsc alike. */
async function prepareProject(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const paths = { scopefs: [join(REPO, 'src/index.ts')], 'scopefs/*': [join(REPO, 'src/entries/*.ts')] };
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: join(REPO, 'tsconfig.json'), compilerOptions: { paths, noEmit: true, rootDir: '/', allowJs: true, checkJs: true }, include: ['blocks/*'] }),
  );
}

const fileName = (block: CodeBlock, i: number) => `block-${i}.${block.lang}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'scopefs-docs-'));
  await prepareProject(work);
  await mkdir(join(work, 'blocks'));
  await Promise.all(runnable.map((block, i) => writeFile(join(work, 'blocks', fileName(block, i)), `${block.code}\nexport {};\n`)));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('docs examples', () => {
  it('finds the README examples', () => {
    expect(runnable.filter((block) => block.file === 'README.md').length).toBeGreaterThanOrEqual(2);
  });

  it('type-check under strict', async () => {
    const { code, output } = await exec([TSC, '-p', work], work, 180_000);
    // Errors inside the sources are the repo typecheck's to report; here only the blocks' own count.
    const blockErrors = output
      .split('\n')
      .filter((line) => line.startsWith('blocks/'))
      .map((line) => line.replace(/^blocks\/block-(\d+)\.(ts|js)/, (_, i: string) => nameOf(runnable[Number(i)]!)));
    expect(blockErrors).toEqual([]);
    expect(code === 0 || /error TS\d+/.test(output), `tsc failed without a diagnostic:\n${output}`).toBe(true);
  }, 200_000);

  it.each(runnable.map((block, i) => [nameOf(block), i] as const))('%s runs', async (_name, i) => {
    const block = runnable[i]!;
    const cwd = join(work, `run-${i}`);
    await mkdir(cwd);
    const runner = join(cwd, 'run.ts');
    await writeFile(
      runner,
      `try { await import(${JSON.stringify(join(work, 'blocks', fileName(block, i)))}); }\n` +
        `finally { const { stopAllScopes } = await import('scopefs'); await stopAllScopes(); }\n` +
        'process.exit(0);\n',
    );
    const { code, output } = await exec(['--import', 'tsx', runner], cwd, RUN_TIMEOUT_MS);
    const known = KNOWN_BROKEN.find((entry) => entry.file === block.file && block.code.includes(entry.contains));
    if (known) {
      expect(code, `${nameOf(block)} is listed as KNOWN_BROKEN but now runs: remove it from the list`).not.toBe(0);
      expect(output).toMatch(known.fails);
      return;
    }
    expect(code, `${nameOf(block)} failed:\n${output}`).toBe(0);
  }, RUN_TIMEOUT_MS + 10_000);
});
