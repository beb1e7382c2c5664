/**
 * Large writes through the FileSystemServer (journal mode, DiskDriver, as
 * in production) against `fs.promises.writeFile` of the same bytes, in one
 * run, pair by pair (each scopefs write flushed before the next pair). While it happens a second server in the same process writes a small
 * file every few milliseconds, and `monitorEventLoopDelay` records the
 * longest stall of the event loop. Also: RSS growth over the content size,
 * and the journal's size once the file is persisted (it must not keep a
 * second copy).
 *
 * Crash check: a writer process (fixtures/journal-writer.ts) is sent large
 * and small writes and SIGKILLed while some are still in flight; after a
 * restart every acknowledged write must be there with its content.
 *
 *   node --expose-gc --import tsx bench/large-file.ts [--mib 50] [--kills 3]
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { sideDirOf } from '../src/fs/side-files.js';
import { spawnPeer } from './fixtures/child.js';
import { collectGarbage, fmt, goalRow, median, runIfMain, withTempDir, type BenchRow } from './lib.js';

const WRITER = fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url));
const SMALL_EVERY_MS = 2;

export interface LargeFileOptions {
  mib: number;
  kills: number;
}

const DEFAULTS: LargeFileOptions = { mib: 50, kills: 3 };

function journalServer(dir: string, name: string): Promise<FileSystemServer> {
  return FileSystemServer.start({
    configs: [{ base: '/', default: true, driver: new DiskDriver({ root: join(dir, name) }) }],
    durability: 'journal',
    journalPath: join(dir, `${name}.journal`),
  });
}

/** Small writes on `server` until `stop()`; returns the slowest one (ms). */
function smallWriter(server: FileSystemServer): { stop: () => Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const start = performance.now();
      await server.writeFile(`/small-${i % 20}.txt`, `small ${i}`);
      slowest = Math.max(slowest, performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, SMALL_EVERY_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

/** A cross-check of monitorEventLoopDelay: the longest time between two ticks of a 1 ms interval. */
function tickGaps(): { stop: () => number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return { stop: () => (clearInterval(timer), longest) };
}

/** Bytes in the journal's content side files (large puts' contents live there until persisted). */
async function sideFileBytes(journalPath: string): Promise<number> {
  const dir = sideDirOf(journalPath);
  const names = await readdir(dir).catch(() => []);
  const sizes = await Promise.all(names.map(async (name) => (await stat(join(dir, name))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

interface WriteResult {
  plainMs: number;
  ackMs: number;
  ratio: number;
  persistedMs: number;
  stallMs: number;
  longestGapMs: number;
  smallSlowestMs: number;
  rssGrowth: number;
  journalAfter: number;
}

/** Pairs of writes timed (plain, then scopefs): the ratio is the median of the pairs' own ratios. */
const PAIRS = 5;

async function largeWrite(dir: string, bytes: number): Promise<WriteResult> {
  const content = Buffer.alloc(bytes, 7);
  await mkdir(join(dir, 'plain'), { recursive: true });
  await writeFile(join(dir, 'plain', 'warm.bin'), content); // warm the page cache's allocation

  const server = await journalServer(dir, 'root');
  const other = await journalServer(dir, 'other');
  try {
    // Warms the write and persist path (modules load on first use under tsx: hundreds of ms) on both servers.
    for (const warm of [server, other]) {
      await warm.writeFile('/warm.bin', Buffer.alloc(1024 * 1024, 1));
      await warm.flushAll();
    }
    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const gaps = tickGaps();
    const small = smallWriter(other);
    await new Promise((resolve) => setTimeout(resolve, 50));
    delay.enable();
    const pairs: Array<{ plainMs: number; ackMs: number; persistedMs: number }> = [];
    let rssGrowth = 0;
    for (let pair = 0; pair < PAIRS; pair++) {
      let start = performance.now();
      await writeFile(join(dir, 'plain', 'big.bin'), content);
      const plainMs = performance.now() - start;
      start = performance.now();
      await server.writeFile('/big.bin', content);
      const ackMs = performance.now() - start;
      await server.flushAll();
      pairs.push({ plainMs, ackMs, persistedMs: performance.now() - start });
      // One write's growth: later pairs replace the content, and what they free waits for a collection.
      if (pair === 0) rssGrowth = process.memoryUsage().rss - rssBefore;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    delay.disable();
    const longestGapMs = gaps.stop();
    const smallSlowestMs = await small.stop();
    const journalAfter = (await stat(join(dir, 'root.journal'))).size + (await sideFileBytes(join(dir, 'root.journal')));
    const onDisk = await readFile(join(dir, 'root', 'big.bin'));
    if (!onDisk.equals(content)) throw new Error('the large file on disk is not what was written');
    return {
      plainMs: median(pairs.map((p) => p.plainMs)),
      ackMs: median(pairs.map((p) => p.ackMs)),
      ratio: median(pairs.map((p) => p.ackMs / p.plainMs)),
      persistedMs: median(pairs.map((p) => p.persistedMs)),
      stallMs: delay.max / 1e6,
      longestGapMs,
      smallSlowestMs,
      rssGrowth,
      journalAfter,
    };
  } finally {
    await Promise.all([server.stop(), other.stop()]);
  }
}

/** SIGKILLs a writer with writes in flight, `kills` times; returns acknowledged writes checked and lost. */
async function crashCheck(dir: string, bytes: number, kills: number): Promise<{ checked: number; lost: number }> {
  const root = join(dir, 'crash');
  const journal = join(dir, 'crash.journal');
  const acked = new Map<string, { bytes: number; fill: number }>();
  let round = 0;
  for (let kill = 0; kill < kills; kill++) {
    const writer = await spawnPeer(WRITER, { root, journal });
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      const fill = (round++ % 250) + 1;
      const write = i % 2 === 0 ? { path: `/big-${i}.bin`, bytes, fill } : { path: `/small-${i}.txt`, bytes: 100, fill };
      inFlight.push(writer.call('write', write).then(() => acked.set(write.path, write), () => undefined));
      if (i === 3) await inFlight[i - 1]; // a few acknowledged, the rest in flight at the kill
    }
    await new Promise((resolve) => setTimeout(resolve, 20 * kill));
    writer.child.kill('SIGKILL');
    await writer.stop();
    await Promise.allSettled(inFlight);
  }
  const server = await FileSystemServer.start({
    configs: [{ base: '/', default: true, driver: new DiskDriver({ root }) }],
    durability: 'journal',
    journalPath: journal,
  });
  let lost = 0;
  try {
    for (const [path, write] of acked) {
      const content = (await server.readFile(path, { encoding: 'bytes' }).catch(() => null)) as Uint8Array | null;
      if (!content || !Buffer.from(content).equals(Buffer.alloc(write.bytes, write.fill))) lost++;
    }
  } finally {
    await server.stop();
  }
  return { checked: acked.size, lost };
}

export async function run(options: LargeFileOptions = DEFAULTS): Promise<BenchRow[]> {
  const bytes = options.mib * 1024 * 1024;
  return withTempDir('large-file', async (dir) => {
    const r = await largeWrite(dir, bytes);
    const crash = await crashCheck(dir, Math.min(bytes, 8 * 1024 * 1024), options.kills);
    const bench = 'large file';
    const size = `${options.mib} MiB`;
    const { ratio } = r;
    return [
      { bench, metric: `fs.promises.writeFile, ${size} (median of ${PAIRS})`, value: fmt.ms(r.plainMs) },
      { bench, metric: `scopefs writeFile, ${size}: acknowledged (median of ${PAIRS})`, value: fmt.ms(r.ackMs) },
      { bench, metric: `scopefs writeFile, ${size}: persisted (flushAll)`, value: fmt.ms(r.persistedMs) },
      goalRow(bench, 'acknowledged / fs.promises.writeFile (median of the pairs)', ratio, fmt.ratio(ratio), { max: 2, text: '≤ 2×' }),
      goalRow(bench, 'longest event-loop stall meanwhile', r.stallMs, `${r.stallMs.toFixed(1)} ms`, { max: 20, text: '≤ 20 ms' }),
      { bench, metric: 'longest gap between 1 ms interval ticks meanwhile', value: `${r.longestGapMs.toFixed(1)} ms` },
      { bench, metric: `slowest small write on a second server meanwhile`, value: `${r.smallSlowestMs.toFixed(1)} ms` },
      goalRow(bench, 'RSS growth of one write / content size', r.rssGrowth / bytes, fmt.ratio(r.rssGrowth / bytes), { max: 2, text: '≤ 2×' }),
      goalRow(bench, 'journal and its side files once persisted', r.journalAfter, fmt.mb(r.journalAfter), { max: bytes / 2, text: 'no second copy' }),
      goalRow(bench, `SIGKILL × ${options.kills}: acknowledged writes checked ${crash.checked}, lost`, crash.lost, String(crash.lost), {
        max: 0,
        text: '0 lost',
      }),
    ];
  });
}

function parseCli(): LargeFileOptions {
  const { values } = parseArgs({ options: { mib: { type: 'string' }, kills: { type: 'string' } } });
  return { mib: Number(values.mib ?? DEFAULTS.mib), kills: Number(values.kills ?? DEFAULTS.kills) };
}

await runIfMain(import.meta.url, () => run(parseCli()));
