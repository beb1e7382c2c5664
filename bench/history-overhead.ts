/**
 * What history costs the filesystem (src/fs/history-recorder.ts):
 * - journaled writes with history on (a local SQLite history file) against
 *   the same writes with history off, in the same run: the ratio of write
 *   throughput, and of the total including the time until every version is
 *   recorded (goal: at most 1.3x);
 * - restoring a 10,000-file checkpoint on SQLite when every file changed
 *   since (goal: under 2 s).
 */
import { join } from 'node:path';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { SqliteHistory } from '../persistence/history/sqlite-history.js';
import { FileSystemServer, type FileSystemServerOptions } from '../src/fs/file-system-server.js';
import { median, fmt, goalRow, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow } from './lib.js';

const FILES = 100;
const WRITES = 20_000;
const RESTORE_FILES = 10_000;
const contentFor = (i: number) => `# note ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB

/** Off/on pairs, alternating which goes first: on a shared machine one pair's ratio is mostly the neighbours' noise. */
const ROUNDS = 3;

export async function runHistoryOverheadBench(): Promise<BenchRow[]> {
  return withTempDir('history-overhead', async (dir) => {
    const pairs: Array<{ off: WriteRun; on: WriteRun }> = [];
    for (let round = 0; round < ROUNDS; round++) pairs.push(await measurePair(join(dir, `round-${round}`), round % 2 === 1));
    const restore = await measureRestore(join(dir, 'restore'));
    const bench = 'history overhead';
    const writeRatio = median(pairs.map((p) => p.off.write.opsPerSec / p.on.write.opsPerSec));
    const totalRatio = median(pairs.map((p) => p.on.totalMs / p.off.totalMs));
    const mid = pairs.find((p) => p.off.write.opsPerSec / p.on.write.opsPerSec === writeRatio) ?? pairs[0]!;
    const each = (ratio: (p: { off: WriteRun; on: WriteRun }) => number) => pairs.map((p) => fmt.ratio(ratio(p))).join(', ');
    return [
      throughputRow(bench, 'journaled writes, history off (median pair)', mid.off.write),
      throughputRow(bench, 'journaled writes, history on, local SQLite (median pair)', mid.on.write),
      goalRow(bench, `write time, on / off (median of ${ROUNDS} pairs: ${each((p) => p.off.write.opsPerSec / p.on.write.opsPerSec)})`, writeRatio, fmt.ratio(writeRatio), { max: 1.3, text: '<= 1.3x' }),
      goalRow(bench, `time until every version is recorded, on / off (${each((p) => p.on.totalMs / p.off.totalMs)})`, totalRatio, fmt.ratio(totalRatio), { max: 1.3, text: '<= 1.3x' }),
      ({ bench, metric: 'versions recorded of the measured writes (median pair)', value: `${mid.on.recorded.toLocaleString('en-US')} of ${WRITES.toLocaleString('en-US')}` }),
      goalRow(`history: restore a ${RESTORE_FILES.toLocaleString('en-US')}-file checkpoint (SQLite)`, 'restoreCheckpoint, every file changed', restore.ms, `${fmt.ms(restore.ms)} (${restore.changed} files written back)`, { max: 2_000, text: '< 2 s' }),
    ];
  });
}

interface WriteRun {
  write: Awaited<ReturnType<typeof measureSequential>>;
  totalMs: number;
  /** Versions in the history from the measured writes (a burst's queued versions of a path coalesce). */
  recorded: number;
}

async function measurePair(dir: string, onFirst: boolean): Promise<{ off: WriteRun; on: WriteRun }> {
  const history = new SqliteHistory({ file: join(dir, 'on', 'history.db') });
  try {
    const on = () => measureWrites(join(dir, 'on'), { store: history, scope: 'bench' });
    const off = () => measureWrites(join(dir, 'off'), undefined);
    if (onFirst) {
      const first = await on();
      return { on: first, off: await off() };
    }
    const first = await off();
    return { off: first, on: await on() };
  } finally {
    await history.close();
  }
}

async function measureWrites(dir: string, history: FileSystemServerOptions['history']): Promise<WriteRun> {
  const paths = Array.from({ length: FILES }, (_, i) => `/bench/file-${i}.md`);
  const server = await FileSystemServer.start({
    configs: [{ base: '/', default: true, driver: new DiskDriver({ root: join(dir, 'root') }) }],
    durability: 'journal',
    journalPath: join(dir, 'journal'),
    debounceMs: 60_000,
    ...(history ? { history } : {}),
  });
  try {
    for (const path of paths) await server.writeFile(path, contentFor(-1));
    await server.historySettled();
    const started = performance.now();
    const write = await measureSequential(WRITES, (i) => server.writeFile(paths[i % FILES]!, contentFor(i)));
    await server.historySettled();
    const totalMs = performance.now() - started;
    return { write, totalMs, recorded: history ? await recordedVersions(history, paths) - FILES : 0 };
  } finally {
    await server.stop();
  }
}

async function recordedVersions(history: NonNullable<FileSystemServerOptions['history']>, paths: string[]): Promise<number> {
  let total = 0;
  for (const path of paths) total += (await history.store.versions(history.scope, path, { limit: 10_000 })).length;
  return total;
}

export async function measureRestore(dir: string): Promise<{ ms: number; changed: number }> {
  const history = new SqliteHistory({ file: join(dir, 'history.db') });
  const server = await FileSystemServer.start({
    configs: [{ base: '/', default: true, driver: new DiskDriver({ root: join(dir, 'root') }) }],
    durability: 'journal',
    journalPath: join(dir, 'journal'),
    debounceMs: 60_000,
    history: { store: history, scope: 'bench' },
  });
  try {
    const path = (i: number) => `/dir${i % 100}/file-${i}.md`;
    for (let i = 0; i < RESTORE_FILES; i++) await server.writeFile(path(i), contentFor(i));
    await server.checkpoint('before');
    for (let i = 0; i < RESTORE_FILES; i++) await server.writeFile(path(i), `changed ${i}`);
    await server.historySettled();
    const started = performance.now();
    const result = await server.restoreCheckpoint('before');
    const ms = performance.now() - started;
    await server.flushAll(); // 20,000 disk writes queued: persist them before stopping
    return { ms, changed: result.written.length };
  } finally {
    await server.stop();
    await history.close();
  }
}

await runIfMain(import.meta.url, runHistoryOverheadBench);
