/**
 * Steady state: what a live, idle instance costs while nothing changes.
 * Two instances run side by side in their own processes, one syncing a root
 * of 100 files and one a root of 10,000, each with its own SQLite store.
 * Once both are idle and settled, each samples its SqliteStore's `queryCount`
 * (statements executed) and its CPU time over the same quiet window, scaled
 * to a minute. Sampling both in the same window gives both the same machine
 * load and timer drift, so the ratio shows the file count's effect alone.
 * Goal: store queries per minute do not grow with the file count (ratio of
 * the large root to the small one at most 1.1×).
 *
 *   node --import tsx bench/sync-steady.ts [--seconds 20] [--small 100] [--large 10000]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, goalRow, runIfMain, withTempDir, type BenchRow } from './lib.js';
import { spawnPeer, type Peer } from './fixtures/child.js';
import type { IdleSample } from './fixtures/idle-peer.js';

const IDLE_PEER = fileURLToPath(new URL('./fixtures/idle-peer.ts', import.meta.url));

export interface SteadyOptions {
  /** Length of the quiet window. */
  seconds: number;
  small: number;
  large: number;
}

const DEFAULTS: SteadyOptions = { seconds: 20, small: 100, large: 10_000 };
/** Lets after-effects of the initial sync (status writes, watcher stability checks) finish before sampling. */
const SETTLE_MS = 2_000;

interface IdleCost {
  files: number;
  queriesPerMinute: number;
  cpuMsPerMinute: number;
}

export async function run(options: SteadyOptions = DEFAULTS): Promise<BenchRow[]> {
  return withTempDir('sync-steady', async (dir) => {
    const small = await startIdlePeer(dir, options.small);
    const large = await startIdlePeer(dir, options.large).catch(async (err: unknown) => {
      await small.stop();
      throw err;
    });
    try {
      await Promise.all([small.call('idle'), large.call('idle')]);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const samples = await Promise.all(
        [small, large].map((peer) => peer.call<IdleSample>('sample', { seconds: options.seconds })),
      );
      return report(costOf(options.small, samples[0]!), costOf(options.large, samples[1]!));
    } finally {
      await Promise.all([small.stop(), large.stop()]);
    }
  });
}

async function startIdlePeer(dir: string, files: number): Promise<Peer> {
  const root = join(dir, `root-${files}`);
  await writeTree(root, files);
  return spawnPeer(IDLE_PEER, { root, store: join(dir, `store-${files}.db`), instanceId: `steady-${files}` });
}

function costOf(files: number, sample: IdleSample): IdleCost {
  if (sample.headAfter !== sample.headBefore) throw new Error(`the store of the ${files}-file root changed while sampling`);
  const minutes = sample.elapsedMs / 60_000;
  return { files, queriesPerMinute: sample.queries / minutes, cpuMsPerMinute: sample.cpuMs / minutes };
}

async function writeTree(root: string, files: number): Promise<void> {
  for (let i = 0; i < files; i++) {
    const file = join(root, `d${Math.floor(i / 100)}`, `f${i}.md`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `# file ${i}\n${'x'.repeat(1000)}\n`);
  }
}

function report(small: IdleCost, large: IdleCost): BenchRow[] {
  const bench = 'sync-steady';
  const count = (n: number) => n.toLocaleString('en-US');
  const perMinute = (n: number) => `${Math.round(n).toLocaleString('en-US')} /min`;
  const ratio = large.queriesPerMinute / small.queriesPerMinute;
  return [
    { bench, metric: `store queries, idle, ${count(small.files)} files`, value: perMinute(small.queriesPerMinute) },
    { bench, metric: `store queries, idle, ${count(large.files)} files`, value: perMinute(large.queriesPerMinute) },
    goalRow(bench, `store queries, ${count(large.files)} / ${count(small.files)} files`, ratio, fmt.ratio(ratio), {
      max: 1.1,
      text: '≤ 1.1× (flat)',
    }),
    { bench, metric: `process CPU, idle, ${count(small.files)} files`, value: `${Math.round(small.cpuMsPerMinute)} ms/min` },
    { bench, metric: `process CPU, idle, ${count(large.files)} files`, value: `${Math.round(large.cpuMsPerMinute)} ms/min` },
  ];
}

function parseCli(): SteadyOptions {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, small: { type: 'string' }, large: { type: 'string' } },
  });
  return {
    seconds: Number(values.seconds ?? DEFAULTS.seconds),
    small: Number(values.small ?? DEFAULTS.small),
    large: Number(values.large ?? DEFAULTS.large),
  };
}

await runIfMain(import.meta.url, () => run(parseCli()));
