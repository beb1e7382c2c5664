/**
 * Start-up cost, as a user pays it, in fresh node processes:
 *
 * - `import('scopefs')` (the built dist/, resolved through the package's own
 *   `exports`) against importing `node:fs` plus chokidar alone. Goal: at
 *   most 3×.
 * - `scopefs --version` and `scopefs cat` in direct mode (no serve running:
 *   the command opens the workspace itself) against `node -e ''`.
 *
 * Commands are run in turn (A B A B ...) so drift hits both alike; medians
 * of RUNS runs after a warm-up. Builds dist/ first (`tsc -p
 * tsconfig.build.json`) unless SCOPEFS_BENCH_NO_BUILD=1.
 *   node --import tsx bench/import.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, goalRow, runIfMain, withTempDir, type BenchRow } from './lib.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const RUNS = 15;
const WARMUP = 2;
const MAX_IMPORT_RATIO = 3;

type Command = readonly string[];

const node = (...args: string[]): Command => [process.execPath, ...args];
const esm = (code: string): Command => node('--input-type=module', '-e', code);

export async function run(): Promise<BenchRow[]> {
  if (process.env.SCOPEFS_BENCH_NO_BUILD !== '1') build();
  const bare = node('-e', '');
  const [scopefs, baseline] = pairedMedians(esm("await import('scopefs');"), esm("await Promise.all([import('node:fs'), import('chokidar')]);"));
  const [version, bareForVersion] = pairedMedians(node(CLI, '--version'), bare);
  const [cat, bareForCat] = await withTempDir('import', async (dir) => {
    const root = join(dir, 'workspace');
    await mkdir(join(root, 'notes'), { recursive: true });
    await writeFile(join(root, 'notes', 'hello.md'), 'hello\n');
    return pairedMedians(node(CLI, 'cat', '/notes/hello.md', '--root', root), bare);
  });
  const ratio = scopefs / baseline;
  return [
    { bench: 'import', metric: "import('node:fs') + import('chokidar')", value: fmt.ms(baseline) },
    { bench: 'import', metric: "import('scopefs') (dist)", value: fmt.ms(scopefs) },
    goalRow('import', "import('scopefs') / node:fs + chokidar", ratio, fmt.ratio(ratio), { max: MAX_IMPORT_RATIO, text: `≤ ${MAX_IMPORT_RATIO}×` }),
    { bench: 'import', metric: "scopefs --version (node -e '' in the same run)", value: `${fmt.ms(version)} (${fmt.ms(bareForVersion)})` },
    { bench: 'import', metric: "scopefs cat, direct mode (node -e '' in the same run)", value: `${fmt.ms(cat)} (${fmt.ms(bareForCat)})` },
  ];
}

function build(): void {
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  execute(node(tsc, '-p', join(REPO, 'tsconfig.build.json')));
}

/** Median wall times (ms) of `a` and `b`, run alternately. */
function pairedMedians(a: Command, b: Command): [number, number] {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const pair = [execute(a), execute(b)] as const;
    if (i >= WARMUP) pair.forEach((ms, side) => times[side]!.push(ms));
  }
  return [median(times[0]), median(times[1])];
}

/** Runs a command in the repo (so `scopefs` resolves to this package); its wall time in ms. Throws if it fails. */
function execute(command: Command): number {
  const start = performance.now();
  const result = spawnSync(command[0]!, command.slice(1), { cwd: REPO, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

await runIfMain(import.meta.url, run);
