/**
 * Reads of loaded files through the FileSystemServer actor, against memfs
 * `readFileSync` on the same paths and content. Goal: at least 0.5× memfs.
 */
import { join } from 'node:path';
import { Volume } from 'memfs';
import { MemoryDriver } from '../persistence/drivers/memory.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { fmt, goalRow, measurePipelined, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow } from './lib.js';

const FILES = 1_000;
const READS = 100_000;
const CONCURRENCY = 64;
const CONTENT = `# note\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB

export async function run(): Promise<BenchRow[]> {
  const paths = Array.from({ length: FILES }, (_, i) => `/bench/dir-${i % 10}/file-${i}.md`);
  const pathOf = (i: number) => paths[i % FILES]!;

  const vol = new Volume();
  for (const path of paths) {
    vol.mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
    vol.writeFileSync(path, CONTENT);
  }
  const memfs = await measureSequential(READS, (i) => vol.readFileSync(pathOf(i), 'utf8'));

  return withTempDir('read', async (dir) => {
    const server = await FileSystemServer.start({
      configs: [{ base: '/', default: true, driver: new MemoryDriver() }],
      durability: 'journal',
      journalPath: join(dir, 'journal'),
    });
    try {
      for (const path of paths) await server.writeFile(path, CONTENT);
      const sequential = await measureSequential(READS, (i) => server.readFile(pathOf(i)));
      const pipelined = await measurePipelined(READS, CONCURRENCY, (i) => server.readFile(pathOf(i)));
      const ratio = sequential.opsPerSec / memfs.opsPerSec;
      return [
        throughputRow('read', 'memfs readFileSync', memfs),
        throughputRow('read', 'actor readFile, one awaited call at a time', sequential),
        throughputRow('read', `actor readFile, ${CONCURRENCY} in flight`, pipelined),
        goalRow('read', 'actor (sequential) / memfs', ratio, fmt.ratio(ratio), { min: 0.5, text: '≥ 0.5×' }),
        goalRow('read', `actor (${CONCURRENCY} in flight) / memfs`, pipelined.opsPerSec / memfs.opsPerSec,
          fmt.ratio(pipelined.opsPerSec / memfs.opsPerSec), { min: 0.5, text: '≥ 0.5×' }),
      ];
    } finally {
      await server.stop();
    }
  });
}

await runIfMain(import.meta.url, run);
