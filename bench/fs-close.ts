/**
 * Closing a server right after 500 new files (journal mode, DiskDriver with
 * fsync, as in production): how long `stop()` takes, against the time the
 * disk needs for the same 500 files written by a DiskDriver directly, 16 at a
 * time like the persister, in the same run. Goal: the close takes at most
 * 100 ms more than the disk needs.
 *
 *   node --import tsx bench/fs-close.ts [--files 500]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { fmt, goalRow, measurePipelined, runIfMain, withTempDir, type BenchRow } from './lib.js';

const PARALLEL_IO = 16;
const contentFor = (i: number) => `# note ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB
const pathOf = (i: number) => `/notes/file-${String(i).padStart(4, '0')}.md`;

export async function run(files = 500): Promise<BenchRow[]> {
  return withTempDir('close', async (dir) => {
    const driver = new DiskDriver({ root: join(dir, 'direct') });
    const disk = await measurePipelined(files, PARALLEL_IO, (i) => driver.write(pathOf(i), Buffer.from(contentFor(i))));

    const server = await FileSystemServer.start({
      configs: [{ base: '/', default: true, driver: new DiskDriver({ root: join(dir, 'root') }) }],
      durability: 'journal',
      journalPath: join(dir, 'journal'),
    });
    const writeStart = performance.now();
    for (let i = 0; i < files; i++) await server.writeFile(pathOf(i), contentFor(i));
    const writesMs = performance.now() - writeStart;
    const start = performance.now();
    await server.stop();
    const closeMs = performance.now() - start;
    const over = closeMs - disk.totalMs;
    const bench = 'close';
    return [
      { bench, metric: `${files} new files: writes acknowledged`, value: fmt.ms(writesMs) },
      { bench, metric: `${files} new files: stop() right after`, value: fmt.ms(closeMs) },
      { bench, metric: `the same files through a DiskDriver directly, ${PARALLEL_IO} at a time`, value: fmt.ms(disk.totalMs) },
      goalRow(bench, 'stop() minus the disk time', over, `${over.toFixed(0)} ms`, { max: 100, text: '≤ 100 ms' }),
    ];
  });
}

const { values } = parseArgs({ options: { files: { type: 'string' } }, strict: false });
await runIfMain(import.meta.url, () => run(Number(values.files ?? 500)));
