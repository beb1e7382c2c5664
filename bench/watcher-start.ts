/**
 * The disk watcher's cost at start: a scope started on a 100,000-file root
 * (1,000 directories of 100 files) with the watcher, against the same start
 * without it, each in a fresh child process, alternating, so drift hits both
 * alike. Figures: wall time until `startScope` resolves and the index is
 * complete, RSS after start, and the watch handles the watcher opened.
 * Goals (the performance issue): at most 2x the time and 1.5x the memory.
 *
 *   node --import tsx bench/watcher-start.ts [--rounds 2]
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startScope } from '../supervisors/scope/scopes.js';
import { fmt, goalRow, isMain, median, printRows, type BenchRow } from './lib.js';

const DIRS = 1_000;
const FILES_PER_DIR = 100;
const FILE_COUNT = DIRS * FILES_PER_DIR;
const DATASET = join(tmpdir(), `scopefs-bench-watch-${FILE_COUNT}`);
const DATASET_MARKER = `${DATASET}.complete`;

interface ChildResult {
  startMs: number;
  rssBytes: number;
  files: number;
  watchHandles: number;
}

export async function run(options: { rounds: number } = { rounds: 2 }): Promise<BenchRow[]> {
  await ensureDataset();
  await runChild(true); // not counted: the first start creates the root's .scopefs/ state
  const on: ChildResult[] = [];
  const off: ChildResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // Alternating which goes first, so a machine that speeds up or slows down favours neither.
    if (round % 2 === 0) on.push(await runChild(true)), off.push(await runChild(false));
    else off.push(await runChild(false)), on.push(await runChild(true));
  }
  const complete = [...on, ...off].every((r) => r.files === FILE_COUNT);
  if (!complete) throw new Error(`a start indexed fewer than ${FILE_COUNT} files`);
  const time = median(on.map((r, i) => r.startMs / off[i]!.startMs));
  const memory = median(on.map((r, i) => r.rssBytes / off[i]!.rssBytes));
  const bench = `watcher, ${FILE_COUNT.toLocaleString('en-US')} files`;
  const runs = (rs: ChildResult[]) => rs.map((r) => fmt.ms(r.startMs)).join(', ');
  return [
    { bench, metric: `start without the watcher (runs: ${runs(off)})`, value: fmt.ms(median(off.map((r) => r.startMs))) },
    { bench, metric: `start with the watcher (runs: ${runs(on)})`, value: fmt.ms(median(on.map((r) => r.startMs))) },
    { bench, metric: 'RSS after start, without / with the watcher', value: `${fmt.mb(median(off.map((r) => r.rssBytes)))} / ${fmt.mb(median(on.map((r) => r.rssBytes)))}` },
    { bench, metric: 'inotify watches, with / without the watcher', value: `${median(on.map((r) => r.watchHandles))} / ${median(off.map((r) => r.watchHandles))}` },
    goalRow(bench, 'start time, watcher on / off', time, fmt.ratio(time), { max: 2, text: '≤ 2×' }),
    goalRow(bench, 'RSS after start, watcher on / off', memory, fmt.ratio(memory), { max: 1.5, text: '≤ 1.5×' }),
  ];
}

async function ensureDataset(): Promise<void> {
  if ((await readFile(DATASET_MARKER, 'utf8').catch(() => '')) === String(FILE_COUNT)) return;
  await rm(DATASET, { recursive: true, force: true });
  console.error(`generating ${FILE_COUNT} files under ${DATASET} (once)...`);
  for (let d = 0; d < DIRS; d++) {
    const dir = join(DATASET, `area-${Math.floor(d / 50)}`, `topic-${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: FILES_PER_DIR }, (_, i) => writeFile(join(dir, `note-${i}.md`), `# note ${d}/${i}\n`)));
  }
  await writeFile(DATASET_MARKER, String(FILE_COUNT));
}

async function runChild(watch: boolean): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--child', watch ? 'on' : 'off'], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

/** In the child: one start on the dataset, measured, then a clean stop. */
async function measureStart(watch: boolean): Promise<ChildResult> {
  const handlesBefore = watchHandles();
  const t0 = performance.now();
  const scope = await startScope({ scopeKey: 'bench-watch', root: DATASET, watch, audit: { enabled: false } });
  try {
    const { total } = await scope.fs.stats(); // the index is complete
    const startMs = performance.now() - t0;
    return { startMs, rssBytes: process.memoryUsage().rss, files: total, watchHandles: watchHandles() - handlesBefore };
  } finally {
    await scope.stop();
  }
}

/** Directories this process watches: inotify watches, from /proc (Linux; 0 elsewhere). */
function watchHandles(): number {
  let watches = 0;
  for (const fd of readdirSafe('/proc/self/fd')) {
    if (readlinkSafe(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
    watches += readFileSafe(`/proc/self/fdinfo/${fd}`).split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return watches;
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { child: { type: 'string' }, rounds: { type: 'string', default: '2' } } });
  if (values.child) console.log(JSON.stringify(await measureStart(values.child === 'on')));
  else printRows(await run({ rounds: Number(values.rounds) }));
}
