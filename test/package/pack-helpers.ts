/**
 * Steps of the package test (pack.test.ts): build and pack scopefs the way
 * `npm publish` would, install the tarball into a fresh project, and read
 * what got installed. Every step runs real npm, tsc and node processes and
 * throws with their output when one fails.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectLockfile, type Lockfile } from './lockfile.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs a command; rejects with its output when it exits non-zero or runs past `timeoutMs`. */
export function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      });
  });
}

/**
 * Builds the sources into `stage/dist` and packs `stage` as npm would
 * publish it (package.json, README, LICENSE and the `files` it lists). The repo's own
 * dist/ is left alone, so other tests and processes never see a half-built one.
 */
export async function buildAndPack(stage: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
  await run(process.execPath, [TSC, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], REPO, 180_000);
  // npm always packs the root's LICENSE; the stage needs it as publishing would see it.
  for (const entry of ['package.json', 'README.md', 'LICENSE', ...manifest.files.filter((file) => !file.startsWith('dist') && !file.startsWith('!'))]) {
    await mkdir(dirname(join(stage, entry)), { recursive: true });
    await cp(join(REPO, entry), join(stage, entry), { recursive: true });
  }
  const packed = JSON.parse(await run('npm', ['pack', '--ignore-scripts', '--json'], stage)) as Array<{ filename: string }>;
  return join(stage, packed[0]!.filename);
}

/**
 * A fresh ESM project with the tarball as its only dependency, installed by
 * `npm ci` from a lockfile that pins scopefs's dependencies to the repo's
 * versions: offline from the npm cache when `npm ci` filled it, else from
 * the registry. Install scripts are skipped (types and imports need no
 * native build). @types/node is linked in: any Node project has it.
 */
export async function installIntoProject(project: string, tarball: string): Promise<void> {
  const name = relative(project, tarball);
  const repoLock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as Lockfile;
  const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module', dependencies: { scopefs: `file:${name}` } }));
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(projectLockfile(repoLock, name, integrity), null, 2));
  const flags = ['ci', '--no-audit', '--no-fund', '--ignore-scripts'];
  try {
    await run('npm', [...flags, '--offline'], project);
  } catch (offline) {
    // A cold npm cache: the same pinned tree, fetched. Any failure here fails the test.
    if (!String(offline).includes('ENOTCACHED')) throw offline;
    await run('npm', [...flags, '--prefer-offline'], project, 300_000);
  }
  await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
  await symlink(join(REPO, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir');
}

/** The ```ts blocks of a Markdown file. */
export function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

/** Runs the repo's tsc (strict, library checks on) over the project's .ts files and every published .d.ts. */
export async function typecheckProject(project: string): Promise<void> {
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      types: ['node'],
    },
    include: ['*.ts', 'node_modules/scopefs/dist/**/*.d.ts'],
  }));
  await run(process.execPath, [TSC, '-p', project, '--strict', '--noEmit'], project, 240_000);
}

/** Every file under `dir`, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)';/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s+'([^']+)';/gm;

/**
 * The bare package names a module loads when imported, following its static
 * imports (not `import()`) through the package's own files.
 */
export async function staticPackages(entry: string): Promise<Set<string>> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of [...source.matchAll(STATIC_IMPORT), ...source.matchAll(SIDE_EFFECT_IMPORT)]) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) pending.push(join(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
    }
  }
  return packages;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
