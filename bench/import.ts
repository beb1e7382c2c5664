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
 * of RUNS runs after a warm-up. On Linux the CPU time of each child (user +
 * sys, from the kernel's accounting of waited-for children) is reported
 * too: on a shared, busy machine it moves far less than wall time. Builds dist/ first (`tsc -p
 * tsconfig.build.json`) unless SCOPEFS_BENCH_NO_BUILD=1.
 *   node --import tsx bench/import.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

/** Median wall time and mean CPU time of one command, ms; cpuMs is undefined off Linux. */
interface Timing {
  wallMs: number;
  cpuMs?: number;
}

const node = (...args: string[]): Command => [process.execPath, ...args];
const esm = (code: string): Command => node('--input-type=module', '-e', code);

export async function run(): Promise<BenchRow[]> {
  if (process.env.SCOPEFS_BENCH_NO_BUILD !== '1') build();
  const bare = node('-e', '');
  const [scopefs, baseline] = paired(esm("await import('scopefs');"), esm("await Promise.all([import('node:fs'), import('chokidar')]);"));
  const [version, bareForVersion] = paired(node(CLI, '--version'), bare);
  const [cat, bareForCat] = await withTempDir('import', async (dir) => {
    const root = join(dir, 'workspace');
    await mkdir(join(root, 'notes'), { recursive: true });
    await writeFile(join(root, 'notes', 'hello.md'), 'hello\n');
    return paired(node(CLI, 'cat', '/notes/hello.md', '--root', root), bare);
  });
  const ratio = scopefs.wallMs / baseline.wallMs;
  const rows: BenchRow[] = [
    { bench: 'import', metric: "import('node:fs') + import('chokidar')", value: shown(baseline) },
    { bench: 'import', metric: "import('scopefs') (dist)", value: shown(scopefs) },
    goalRow('import', "import('scopefs') / node:fs + chokidar (wall)", ratio, fmt.ratio(ratio), { max: MAX_IMPORT_RATIO, text: `≤ ${MAX_IMPORT_RATIO}×` }),
  ];
  if (scopefs.cpuMs !== undefined && baseline.cpuMs !== undefined) {
    rows.push({ bench: 'import', metric: "import('scopefs') / node:fs + chokidar (CPU)", value: fmt.ratio(scopefs.cpuMs / baseline.cpuMs) });
  }
  rows.push(
    { bench: 'import', metric: "scopefs --version (node -e '' in the same run)", value: `${shown(version)} (${shown(bareForVersion)})` },
    { bench: 'import', metric: "scopefs cat, direct mode (node -e '' in the same run)", value: `${shown(cat)} (${shown(bareForCat)})` },
  );
  return rows;
}

function shown(timing: Timing): string {
  return timing.cpuMs === undefined ? fmt.ms(timing.wallMs) : `${fmt.ms(timing.wallMs)}, CPU ${fmt.ms(timing.cpuMs)}`;
}

function build(): void {
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  execute(node(tsc, '-p', join(REPO, 'tsconfig.build.json')));
}

/** Timings of `a` and `b`, run alternately. */
function paired(a: Command, b: Command): [Timing, Timing] {
  const walls: [number[], number[]] = [[], []];
  const cpus: [number[], number[]] = [[], []];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    [a, b].forEach((command, side) => {
      const cpuBefore = childrenCpuMs();
      const wallMs = execute(command);
      const cpuAfter = childrenCpuMs();
      if (i < WARMUP) return;
      walls[side]!.push(wallMs);
      if (cpuBefore !== undefined && cpuAfter !== undefined) cpus[side]!.push(cpuAfter - cpuBefore);
    });
  }
  const timing = (side: 0 | 1): Timing => ({ wallMs: median(walls[side]), cpuMs: cpus[side].length === RUNS ? mean(cpus[side]) : undefined });
  return [timing(0), timing(1)];
}

/** Runs a command in the repo (so `scopefs` resolves to this package); its wall time in ms. Throws if it fails. */
function execute(command: Command): number {
  const start = performance.now();
  const result = spawnSync(command[0]!, command.slice(1), { cwd: REPO, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

/**
 * User + system CPU of this process's finished children so far (cutime and
 * cstime in /proc/self/stat, in clock ticks of 10 ms); undefined off Linux.
 * Per run that is coarse, so CPU is reported as a mean over the runs.
 */
function childrenCpuMs(): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces); cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

await runIfMain(import.meta.url, run);
