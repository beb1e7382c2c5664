/**
 * Propagation latency through one SQLite file (and one PostgreSQL database): process A writes a file,
 * process B sees it, both as a FileSystemServer `file_updated` event with
 * origin `sync` (reported by B) and as the file with that content on B's disk
 * (observed from this process with inotify). Sequential: each write waits
 * until B has both before the next one starts. Timestamps come from the
 * monotonic clock all processes share.
 *
 * Series: new files (persisted to disk at once), then updates of one file
 * (a change that arrives by sync is written to disk at once, without the
 * persist debounce that coalesces local bursts).
 * Baseline: the same new-file series through a hand-rolled minimum (see
 * fixtures/raw-sqlite-peer.ts) polling `PRAGMA data_version` as often as
 * the SqliteStore does; the ratio is what scopefs' sync work costs on top.
 * Before each write the bench pauses a random 0..pollMs, so writes land at a
 * random phase of the readers' poll timers (back-to-back writes would lock
 * onto the timer and always wait almost a full interval).
 *
 * Both instances run with the library's defaults (sync debounce 0 ms, store
 * poll 25 ms, journal durability, disk watcher on); `--debounce-ms` overrides
 * the sync debounce (A's batching window before a push).
 *
 * PostgreSQL: the same scopefs series through a scratch database
 * (SCOPEFS_BENCH_POSTGRES_URL), against the store-level round trip (one
 * PostgresStore pushes, another hears the NOTIFY and reads the row by cursor)
 * measured in the same run.
 *
 *   node --import tsx bench/sync-latency.ts [--writes 500] [--updates 50] [--poll-ms 25] [--debounce-ms N] [--store sqlite|postgres]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, goalRow, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';
import { spawnPeer, type Peer } from './fixtures/child.js';
import { DiskObserver } from './fixtures/disk-observer.js';
import { BENCH_POSTGRES_URL, postgresReachable, withScratchDatabase } from './pg-scratch.js';
import { notifyLatencies } from './pg-store.js';
import { PostgresStore } from '../persistence/stores/postgres-store.js';

const SYNC_PEER = fileURLToPath(new URL('./fixtures/sync-peer.ts', import.meta.url));
const RAW_PEER = fileURLToPath(new URL('./fixtures/raw-sqlite-peer.ts', import.meta.url));
const WAIT_MS = 30_000;
const WARMUP = 10;

export interface LatencyOptions {
  /** New files written, one at a time. */
  writes: number;
  /** Updates of one existing file, one at a time. */
  updates: number;
  /** The baseline reader's poll interval (the SqliteStore polls every 25 ms by default). */
  pollMs: number;
  /** The instances' sync debounce; undefined: the library's default. */
  debounceMs?: number;
  /** The stores to run through (PostgreSQL: a scratch database on SCOPEFS_BENCH_POSTGRES_URL). */
  stores: Array<'sqlite' | 'postgres'>;
}

const DEFAULTS: LatencyOptions = { writes: 500, updates: 50, pollMs: 25, stores: ['sqlite', 'postgres'] };

interface Series {
  event: Float64Array;
  disk: Float64Array;
}

interface Step {
  name: string;
  content: string;
}

const contentFor = (i: number) => `# note ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB

export async function run(options: LatencyOptions = DEFAULTS): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (options.stores.includes('sqlite')) rows.push(...(await sqliteRun(options)));
  if (!options.stores.includes('postgres')) return rows;
  if (await postgresReachable()) rows.push(...(await postgresRun(options)));
  else rows.push({ bench: 'sync-latency pg', metric: `skipped: PostgreSQL at ${BENCH_POSTGRES_URL} unreachable`, value: '' });
  return rows;
}

const creates = (prefix: string, count: number): Step[] =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${String(i).padStart(5, '0')}.md`, content: contentFor(i) }));

/** New files then updates of one file, A to B through `store`. */
function scopefsSeries(dir: string, store: string, options: LatencyOptions): Promise<{ created: Series; updated: Series }> {
  const updates = Array.from({ length: options.updates }, (_, i) => ({ name: 'updated.md', content: contentFor(i) }));
  return withScopefsPeers(dir, store, options.debounceMs, async (a, b, observer) => {
    // The warm-up also creates the file the update series rewrites.
    const warmup = [...creates('warmup', WARMUP), { name: 'updated.md', content: 'created' }];
    await measure(a, b, observer, warmup, options.pollMs);
    const created = await measure(a, b, observer, creates('new', options.writes), options.pollMs);
    const updated = await measure(a, b, observer, updates, options.pollMs);
    return { created, updated };
  });
}

async function sqliteRun(options: LatencyOptions): Promise<BenchRow[]> {
  const scopefs = await withTempDir('sync-latency', (dir) => scopefsSeries(dir, `sqlite:${join(dir, 'store.db')}`, options));
  const raw = await withTempDir('sync-latency-raw', (dir) =>
    withRawPeers(dir, options.pollMs, async (a, b, observer) => {
      await measure(a, b, observer, creates('warmup', WARMUP), options.pollMs);
      return measure(a, b, observer, creates('new', options.writes), options.pollMs);
    }),
  );
  return report(options, scopefs.created, scopefs.updated, raw);
}

/**
 * The same series through a PostgreSQL store (a scratch database). Baseline:
 * the store-level round trip in the same run, one PostgresStore pushing and
 * another hearing the NOTIFY and fetching the row by cursor (pg-store.ts).
 */
async function postgresRun(options: LatencyOptions): Promise<BenchRow[]> {
  return withScratchDatabase('latency', async (url) => {
    const scopefs = await withTempDir('sync-latency-pg', (dir) => scopefsSeries(dir, url, options));
    const [a, b] = [new PostgresStore({ connectionString: url }), new PostgresStore({ connectionString: url })];
    await Promise.all([a.open(), b.open()]);
    try {
      const notify = Float64Array.from(await notifyLatencies(a, b, options.writes));
      return pgReport(options, scopefs.created, scopefs.updated, notify);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

/** Runs `steps` one at a time; latencies in ms from just before A's write call. */
async function measure(a: Peer, b: Peer, observer: DiskObserver, steps: Step[], phaseMs: number): Promise<Series> {
  const series: Series = { event: new Float64Array(steps.length), disk: new Float64Array(steps.length) };
  for (const [i, { name, content }] of steps.entries()) {
    const path = `/${name}`;
    const seen = b.nextReport((r) => r.seen === path, WAIT_MS, `B to see ${path}`);
    const onDisk = observer.waitFor(name, content, WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * phaseMs));
    const { at } = await a.call<{ at: number }>('write', { path, content });
    const [event, disk] = await Promise.all([seen, onDisk]);
    series.event[i] = (event.at as number) - at;
    series.disk[i] = disk - at;
  }
  return series;
}

export async function withScopefsPeers<T>(
  dir: string,
  store: string,
  debounceMs: number | undefined,
  body: (a: Peer, b: Peer, observer: DiskObserver) => Promise<T>,
): Promise<T> {
  const rootB = join(dir, 'b');
  await mkdir(rootB, { recursive: true });
  const a = await spawnPeer(SYNC_PEER, { root: join(dir, 'a'), store, instanceId: 'bench-a', debounceMs });
  const b = await spawnPeer(SYNC_PEER, { root: rootB, store, instanceId: 'bench-b', debounceMs });
  const observer = new DiskObserver(rootB);
  try {
    await Promise.all([a.call('idle'), b.call('idle')]);
    return await body(a, b, observer);
  } finally {
    observer.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function withRawPeers<T>(
  dir: string,
  pollMs: number,
  body: (a: Peer, b: Peer, observer: DiskObserver) => Promise<T>,
): Promise<T> {
  const db = join(dir, 'raw.db');
  const rootB = join(dir, 'b');
  await mkdir(rootB, { recursive: true });
  const a = await spawnPeer(RAW_PEER, { db, root: join(dir, 'a'), role: 'writer', pollMs });
  const b = await spawnPeer(RAW_PEER, { db, root: rootB, role: 'reader', pollMs });
  const observer = new DiskObserver(rootB);
  try {
    return await body(a, b, observer);
  } finally {
    observer.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}

const p = (values: Float64Array, q: number) => percentile(values.slice().sort(), q);
const shown = (values: Float64Array) => `p50 ${fmt.ms(p(values, 0.5))}, p99 ${fmt.ms(p(values, 0.99))}`;
const shownFine = (values: Float64Array) => `p50 ${p(values, 0.5).toFixed(1)} ms, p99 ${p(values, 0.99).toFixed(1)} ms`;

/** The scopefs rows of one store: B's event against `eventGoal` (p50, and p99 when given), B's disk. */
function scopefsRows(
  bench: string,
  options: LatencyOptions,
  created: Series,
  updated: Series,
  eventGoal: { p50: number; p99?: number },
): BenchRow[] {
  const n = options.writes;
  const scopefs = options.debounceMs === undefined ? 'scopefs' : `scopefs (sync debounce ${options.debounceMs} ms)`;
  const rows: BenchRow[] = [
    goalRow(bench, `${scopefs}, new file: B's sync event (${n} writes), p50`, p(created.event, 0.5), shownFine(created.event), {
      max: eventGoal.p50,
      text: `p50 ≤ ${eventGoal.p50} ms`,
    }),
  ];
  if (eventGoal.p99 !== undefined) {
    rows.push(
      goalRow(bench, `${scopefs}, new file: B's sync event, p99`, p(created.event, 0.99), fmt.ms(p(created.event, 0.99)), {
        max: eventGoal.p99,
        text: `p99 ≤ ${eventGoal.p99} ms`,
      }),
    );
  }
  rows.push({ bench, metric: `${scopefs}, new file: on B's disk (${n} writes)`, value: shown(created.disk) });
  if (options.updates > 0) {
    rows.push(
      { bench, metric: `${scopefs}, update: B's sync event (${options.updates} writes)`, value: shown(updated.event) },
      { bench, metric: `${scopefs}, update: on B's disk`, value: shown(updated.disk) },
    );
  }
  return rows;
}

function pgReport(options: LatencyOptions, created: Series, updated: Series, notify: Float64Array): BenchRow[] {
  const bench = 'sync-latency pg';
  return [
    ...scopefsRows(bench, options, created, updated, { p50: 10, p99: 50 }),
    { bench, metric: `baseline: store-level push → NOTIFY → since() (${notify.length} writes)`, value: shownFine(notify) },
    { bench, metric: 'scopefs event / store round trip, p50', value: fmt.ratio(p(created.event, 0.5) / p(notify, 0.5)) },
    { bench, metric: 'scopefs event / store round trip, p99', value: fmt.ratio(p(created.event, 0.99) / p(notify, 0.99)) },
  ];
}

function report(options: LatencyOptions, created: Series, updated: Series, raw: Series): BenchRow[] {
  const bench = 'sync-latency';
  return [
    ...scopefsRows(bench, options, created, updated, { p50: 30 }),
    { bench, metric: `baseline (raw SQLite, ${options.pollMs} ms poll): B read the row`, value: shown(raw.event) },
    { bench, metric: `baseline (raw SQLite, ${options.pollMs} ms poll): on B's disk`, value: shown(raw.disk) },
    { bench, metric: 'scopefs / baseline, B sees it, p50', value: fmt.ratio(p(created.event, 0.5) / p(raw.event, 0.5)) },
    { bench, metric: 'scopefs / baseline, on disk, p50', value: fmt.ratio(p(created.disk, 0.5) / p(raw.disk, 0.5)) },
    { bench, metric: 'scopefs / baseline, on disk, p99', value: fmt.ratio(p(created.disk, 0.99) / p(raw.disk, 0.99)) },
  ];
}

function parseCli(): LatencyOptions {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string' },
      updates: { type: 'string' },
      'poll-ms': { type: 'string' },
      'debounce-ms': { type: 'string' },
      store: { type: 'string' },
    },
  });
  const stores = values.store === undefined ? DEFAULTS.stores : [values.store];
  if (!stores.every((store) => store === 'sqlite' || store === 'postgres')) throw new Error('--store is sqlite or postgres');
  return {
    writes: Number(values.writes ?? DEFAULTS.writes),
    updates: Number(values.updates ?? DEFAULTS.updates),
    pollMs: Number(values['poll-ms'] ?? DEFAULTS.pollMs),
    debounceMs: values['debounce-ms'] === undefined ? undefined : Number(values['debounce-ms']),
    stores: stores as LatencyOptions['stores'],
  };
}

await runIfMain(import.meta.url, () => run(parseCli()));
