/**
 * Indexing 100,000 persisted files lazily: a FileSystemServer starts on a
 * DiskDriver root holding 100k files and must know every one (metadata only,
 * no content loaded). Goal: at most 3 s and 150 MB.
 *
 * Each run happens in a fresh child process, so the RSS figures are that
 * process's own: the delta from just before `start()` to just after the index
 * is complete (after a GC), and the peak (max RSS) over that baseline, which
 * also counts transient garbage. The tree is generated once under the OS temp
 * dir and reused (`SCOPEFS_BENCH_REGENERATE=1` rebuilds it).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { collectGarbage, fmt, goalRow, isMain, percentile, printRows, type BenchRow } from './lib.js';

const FILE_COUNT = 100_000;
const TOP_DIRS = 10;
const SUB_DIRS = 50; // per top dir
const FILES_PER_DIR = FILE_COUNT / (TOP_DIRS * SUB_DIRS);
const RUNS = 3;
const DATASET = join(tmpdir(), `scopefs-bench-index-${FILE_COUNT}`);
const DATASET_MARKER = `${DATASET}.complete`;

interface ChildResult {
  indexMs: number;
  startMs: number;
  total: number;
  loaded: number;
  rssDeltaBytes: number;
  peakRssDeltaBytes: number;
  heapDeltaBytes: number;
  lazyReadOk: boolean;
}

export async function run(): Promise<BenchRow[]> {
  await ensureDataset();
  const results: ChildResult[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await runChild());
  const median = (pick: (r: ChildResult) => number) => percentile(results.map(pick).sort((a, b) => a - b), 0.5);
  const worst = (pick: (r: ChildResult) => number) => Math.max(...results.map(pick));
  const indexMs = median((r) => r.indexMs);
  const peak = worst((r) => r.peakRssDeltaBytes);
  const complete = results.every((r) => r.total === FILE_COUNT && r.loaded === 0 && r.lazyReadOk);
  const bench = `index ${FILE_COUNT.toLocaleString('en-US')} files`;
  return [
    goalRow(bench, `start + index, median of ${RUNS} (runs: ${results.map((r) => fmt.ms(r.indexMs)).join(', ')})`, indexMs, fmt.ms(indexMs), {
      max: 3000,
      text: '≤ 3000 ms',
    }),
    { bench, metric: 'of which start() returned after', value: fmt.ms(median((r) => r.startMs)) },
    goalRow(bench, `peak RSS growth, worst of ${RUNS}`, peak / 2 ** 20, fmt.mb(peak), { max: 150, text: '≤ 150 MiB' }),
    { bench, metric: 'RSS growth after GC, worst', value: fmt.mb(worst((r) => r.rssDeltaBytes)) },
    { bench, metric: 'heap growth after GC, worst', value: fmt.mb(worst((r) => r.heapDeltaBytes)) },
    goalRow(bench, 'all files indexed, none loaded, lazy read works', complete ? 1 : 0, complete ? 'yes' : 'no', {
      min: 1,
      text: 'yes',
    }),
  ];
}

async function ensureDataset(): Promise<void> {
  const fresh = process.env.SCOPEFS_BENCH_REGENERATE !== '1';
  if (fresh && (await readFile(DATASET_MARKER, 'utf8').catch(() => '')) === String(FILE_COUNT)) return;
  await rm(DATASET, { recursive: true, force: true });
  console.error(`generating ${FILE_COUNT} files under ${DATASET} (once)...`);
  for (let d = 0; d < TOP_DIRS * SUB_DIRS; d++) {
    const dir = join(DATASET, `area-${Math.floor(d / SUB_DIRS)}`, `topic-${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: FILES_PER_DIR }, (_, i) => writeFile(join(dir, `note-${i}.md`), `# note ${d}/${i}\n`)),
    );
  }
  await writeFile(DATASET_MARKER, String(FILE_COUNT));
}

async function runChild(): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, '--child', DATASET],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Runs in the child: start a server on the dataset and measure. */
async function measureIndex(root: string): Promise<ChildResult> {
  const journalDir = await mkdtemp(join(tmpdir(), 'scopefs-bench-index-journal-'));
  collectGarbage();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const server = await FileSystemServer.start({
    configs: [{ base: '/', default: true, driver: new DiskDriver({ root }) }],
    durability: 'journal',
    journalPath: join(journalDir, 'journal'),
  });
  const startMs = performance.now() - t0;
  const stats = await server.stats(); // forces the index if start() left it lazy
  const indexMs = performance.now() - t0;
  collectGarbage();
  const after = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024; // high-water mark up to now
  try {
    const lazyReadOk = (await server.readFile('/area-0/topic-0/note-0.md')) === '# note 0/0\n';
    return {
      indexMs,
      startMs,
      total: stats.total,
      loaded: stats.loaded,
      rssDeltaBytes: after.rss - before.rss,
      peakRssDeltaBytes: peakRss - before.rss,
      heapDeltaBytes: after.heapUsed - before.heapUsed,
      lazyReadOk,
    };
  } finally {
    await server.stop();
    await rm(journalDir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const childRoot = process.argv[process.argv.indexOf('--child') + 1];
  if (process.argv.includes('--child') && childRoot) console.log(JSON.stringify(await measureIndex(childRoot)));
  else printRows(await run());
}
