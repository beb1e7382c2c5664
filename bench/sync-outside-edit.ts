/**
 * An outside program edits a file on A's disk; how long until B's disk file
 * holds the new content. The bench process itself is the editor: a plain
 * `fs.writeFile` (truncate, then write) into A's root, as an editor's save
 * does. B's disk is observed with inotify (DiskObserver). Series: edits of
 * one existing file, then new files. Before each write the bench pauses a
 * random 0..1 s, so writes land at a random phase of the baseline's timers.
 *
 * Stores: SQLite and PostgreSQL (a scratch database). Baseline in the same
 * run: a polling engine (fixtures/poll-peer.ts, one poll a second through one
 * SQLite file, like agent-native's).
 *
 *   node --import tsx bench/sync-outside-edit.ts [--edits 20] [--store sqlite|postgres]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnPeer } from './fixtures/child.js';
import { DiskObserver } from './fixtures/disk-observer.js';
import { clockMs } from './fixtures/protocol.js';
import { fmt, goalRow, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';
import { BENCH_POSTGRES_URL, postgresReachable, withScratchDatabase } from './pg-scratch.js';
import { withScopefsPeers } from './sync-latency.js';

const POLL_PEER = fileURLToPath(new URL('./fixtures/poll-peer.ts', import.meta.url));
const POLL_MS = 1_000;
const PHASE_MS = 1_000;
const WAIT_MS = 30_000;

export interface OutsideEditOptions {
  /** Edits of one file, then as many new files. */
  edits: number;
  stores: Array<'sqlite' | 'postgres'>;
}

const DEFAULTS: OutsideEditOptions = { edits: 20, stores: ['sqlite', 'postgres'] };

interface Series {
  edit: number[];
  create: number[];
}

const contentFor = (i: number) => `# edit ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`;

/** Edits `rootA` and times each change's arrival on `observer`'s disk (B). */
async function measure(rootA: string, observer: DiskObserver, edits: number): Promise<Series> {
  const one = async (name: string, content: string) => {
    const onDisk = observer.waitFor(name, content, WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * PHASE_MS));
    const at = clockMs();
    await writeFile(join(rootA, name), content);
    return (await onDisk) - at;
  };
  await one('edited.md', 'first version'); // creates the file the edits rewrite, and warms up
  const series: Series = { edit: [], create: [] };
  for (let i = 0; i < edits; i++) series.edit.push(await one('edited.md', contentFor(i)));
  for (let i = 0; i < edits; i++) series.create.push(await one(`new-${i}.md`, contentFor(i)));
  return series;
}

function scopefsSeries(dir: string, store: string, edits: number): Promise<Series> {
  return withScopefsPeers(dir, store, undefined, async (_a, _b, observer) => {
    const rootA = join(dir, 'a');
    return measure(rootA, observer, edits);
  });
}

async function pollingSeries(dir: string, edits: number): Promise<Series> {
  const db = join(dir, 'poll.db');
  const [rootA, rootB] = [join(dir, 'a'), join(dir, 'b')];
  await Promise.all([mkdir(rootA, { recursive: true }), mkdir(rootB, { recursive: true })]);
  const a = await spawnPeer(POLL_PEER, { db, root: rootA, peer: 'a', pollMs: POLL_MS });
  const b = await spawnPeer(POLL_PEER, { db, root: rootB, peer: 'b', pollMs: POLL_MS });
  const observer = new DiskObserver(rootB);
  try {
    return await measure(rootA, observer, edits);
  } finally {
    observer.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}

export async function run(options: OutsideEditOptions = DEFAULTS): Promise<BenchRow[]> {
  const results: Array<[string, Series]> = [];
  if (options.stores.includes('sqlite')) {
    results.push(['SQLite', await withTempDir('outside-sqlite', (dir) => scopefsSeries(dir, `sqlite:${join(dir, 'store.db')}`, options.edits))]);
  }
  if (options.stores.includes('postgres') && !(await postgresReachable())) {
    console.error(`sync-outside-edit: PostgreSQL at ${BENCH_POSTGRES_URL} unreachable, skipping it`);
  } else if (options.stores.includes('postgres')) {
    const series = await withScratchDatabase('outside', (url) => withTempDir('outside-pg', (dir) => scopefsSeries(dir, url, options.edits)));
    results.push(['PostgreSQL', series]);
  }
  const polling = await withTempDir('outside-poll', (dir) => pollingSeries(dir, options.edits));
  return report(options.edits, results, polling);
}

const p50 = (values: number[]) => percentile([...values].sort((x, y) => x - y), 0.5);
const p99 = (values: number[]) => percentile([...values].sort((x, y) => x - y), 0.99);
const shown = (values: number[]) => `p50 ${fmt.ms(p50(values))}, p99 ${fmt.ms(p99(values))}`;

function report(edits: number, results: Array<[string, Series]>, polling: Series): BenchRow[] {
  const bench = 'outside edit';
  const rows: BenchRow[] = [];
  for (const [store, series] of results) {
    rows.push(
      goalRow(bench, `scopefs (${store}): edit on A's disk → B's disk (${edits} edits)`, p50(series.edit), shown(series.edit), {
        max: 150,
        text: 'p50 ≤ 150 ms',
      }),
      goalRow(bench, `polling engine p50 / scopefs (${store}) p50, edits`, p50(polling.edit) / p50(series.edit), fmt.ratio(p50(polling.edit) / p50(series.edit)), {
        min: 2.5,
        text: '≥ 2.5×',
      }),
      { bench, metric: `scopefs (${store}): new file on A's disk → B's disk`, value: shown(series.create) },
    );
  }
  rows.push(
    { bench, metric: `baseline: polling engine (${POLL_MS} ms poll, SQLite), edits`, value: shown(polling.edit) },
    { bench, metric: 'baseline: polling engine, new files', value: shown(polling.create) },
  );
  return rows;
}

function parseCli(): OutsideEditOptions {
  const { values } = parseArgs({ options: { edits: { type: 'string' }, store: { type: 'string' } } });
  const stores = values.store === undefined ? DEFAULTS.stores : [values.store];
  if (!stores.every((store) => store === 'sqlite' || store === 'postgres')) throw new Error('--store is sqlite or postgres');
  return { edits: Number(values.edits ?? DEFAULTS.edits), stores: stores as OutsideEditOptions['stores'] };
}

await runIfMain(import.meta.url, () => run(parseCli()));
