/**
 * glob and grep over 10,000 files on disk (src/search, what the MCP tools
 * run), against the baseline of the same run: ripgrep on the same directory
 * when `rg` is installed, else a plain node:fs walk with the same regex.
 * grep is timed cold (first search: contents load from disk through the
 * FileSystemServer) and warm (contents in memory). Medians of 5 runs.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { globFiles, grepFiles } from '../src/search/search.js';
import { fmt, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';

const FILES = 10_000;
const DIRS = 100;
const RUNS = 5;
const PATTERN = 'TODO \\d+7\\b';
const run = promisify(execFile);

export async function runSearchBench(): Promise<BenchRow[]> {
  return withTempDir('search', async (root) => {
    await writeDataset(root);
    const rg = await hasRipgrep();
    const baselineName = rg ? 'rg' : 'fs walk + regex';
    const server = await FileSystemServer.start({ configs: [{ base: '/', default: true, driver: new DiskDriver({ root }) }] });
    try {
      const cold = await timed(() => grepFiles(server, { pattern: PATTERN, output: 'files', limit: FILES }));
      const grepMs = median(await repeat(() => grepFiles(server, { pattern: PATTERN, output: 'files', limit: FILES })));
      const globMs = median(await repeat(() => globFiles(server, { pattern: '**/*.md', limit: 100 })));
      const baseGrepMs = median(await repeat(() => (rg ? rgGrep(root) : walkGrep(root))));
      const baseGlobMs = median(await repeat(() => (rg ? rgGlob(root) : walkGlob(root))));
      const found = (await grepFiles(server, { pattern: PATTERN, limit: FILES })).files.length;
      const expected = rg ? (await rgGrep(root)).length : (await walkGrep(root)).length;
      if (found !== expected) throw new Error(`grep found ${found} files, ${baselineName} ${expected}`);
      const bench = `search ${FILES.toLocaleString('en-US')} files`;
      return [
        { bench, metric: `grep, cold: contents from disk (${found} files match)`, value: `${fmt.ms(cold.ms)}; ${baselineName} ${fmt.ms(baseGrepMs)} (${fmt.ratio(cold.ms / baseGrepMs)})` },
        { bench, metric: 'grep, warm: contents in memory', value: `${fmt.ms(grepMs)}; ${baselineName} ${fmt.ms(baseGrepMs)} (${fmt.ratio(grepMs / baseGrepMs)})` },
        { bench, metric: 'glob **/*.md, newest 100', value: `${fmt.ms(globMs)}; ${baselineName} ${fmt.ms(baseGlobMs)} (${fmt.ratio(globMs / baseGlobMs)})` },
      ];
    } finally {
      await server.stop();
    }
  });
}

async function writeDataset(root: string): Promise<void> {
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, `area-${d}`);
    await mkdir(dir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < FILES / DIRS; f++) {
      const n = d * (FILES / DIRS) + f;
      const body = Array.from({ length: 40 }, (_, line) => (line === 20 ? `TODO ${n}` : `line ${line} of note ${n}, some ordinary prose`));
      writes.push(writeFile(join(dir, `note-${f}.${f % 4 === 0 ? 'txt' : 'md'}`), `${body.join('\n')}\n`));
    }
    await Promise.all(writes);
  }
}

async function hasRipgrep(): Promise<boolean> {
  try {
    await run('rg', ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function rgGrep(root: string): Promise<string[]> {
  const { stdout } = await run('rg', ['-l', PATTERN, root], { maxBuffer: 64 << 20 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return stdout.split('\n').filter(Boolean);
}

async function rgGlob(root: string): Promise<string[]> {
  const { stdout } = await run('rg', ['--files', '-g', '*.md', '--sortr', 'modified', root], { maxBuffer: 64 << 20 });
  return stdout.split('\n').filter(Boolean).slice(0, 100);
}

async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function walkGrep(root: string): Promise<string[]> {
  const regex = new RegExp(PATTERN, 'mu');
  const files = await walk(root);
  const hits: string[] = [];
  for (let i = 0; i < files.length; i += 64) {
    const batch = files.slice(i, i + 64);
    const texts = await Promise.all(batch.map((file) => readFile(file, 'utf8')));
    texts.forEach((text, j) => regex.test(text) && hits.push(batch[j]!));
  }
  return hits;
}

async function walkGlob(root: string): Promise<string[]> {
  return (await walk(root)).filter((file) => file.endsWith('.md')).slice(0, 100);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

async function repeat(work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push((await timed(work)).ms);
  return times;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

await runIfMain(import.meta.url, runSearchBench);
