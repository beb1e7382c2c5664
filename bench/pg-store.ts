/**
 * PostgreSQL store benchmarks (issue 4), against a real server:
 *   node --import tsx bench/pg-store.ts
 * Uses SCOPEFS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 * to create a scratch database, dropped at the end.
 *
 * 1. Propagation A -> B: A pushes, B's LISTEN/NOTIFY hint triggers since()
 *    and the row arrives; versus B polling since() every 2 s.
 * 2. Initial sync of 10,000 files of 1 KiB: batched pushes versus one row
 *    per request; pulling by cursor versus one get() per row.
 * 3. Steady state: queries per minute of an idle watching store, and per
 *    change caught up, with 100 versus 10,000 rows.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import { sha256 } from '../src/content.js';
import { PostgresStore } from '../persistence/stores/postgres-store.js';
import { SHARED_OWNER, type PushChange } from '../persistence/stores/types.js';
import { fmt, goalRow, isMain, markdownTable, percentile, printRows, type BenchRow } from './lib.js';
import { withScratchDatabase } from './pg-scratch.js';

const LATENCY_WRITES = 1_000;
const POLL_SAMPLES = 20;
const POLL_INTERVAL_MS = 2_000;
const FILES = 10_000;
const FILE_BYTES = 1_024;
const BATCH = 500;
const IDLE_WINDOW_MS = 10_000;

function change(path: string, content: Uint8Array, baseRevision = 0): PushChange {
  return { owner: SHARED_OWNER, path, baseRevision, content, hash: sha256(content) };
}

/** B's side: pulls by cursor whenever asked, and records when each path arrived. */
export class Follower {
  private cursor = 0;
  private pulling: Promise<void> | null = null;
  private again = false;
  private readonly waiting = new Map<string, (at: number) => void>();

  constructor(
    private readonly store: PostgresStore,
    private readonly app: string,
  ) {}

  /** Resolves with performance.now() at the moment `path` was fetched. */
  arrival(path: string): Promise<number> {
    return new Promise((resolve) => this.waiting.set(path, resolve));
  }

  pull(): void {
    if (this.pulling) {
      this.again = true;
      return;
    }
    this.pulling = this.drain().finally(() => (this.pulling = null));
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (let more = true; more; ) {
        const page = await this.store.since(this.app, [SHARED_OWNER], this.cursor, 1_000);
        const now = performance.now();
        for (const row of page.rows) this.waiting.get(row.path)?.(now);
        this.cursor = page.cursor;
        more = page.more;
      }
    } while (this.again);
  }
}

const ms = (values: number[], p: number) => percentile([...values].sort((a, b) => a - b), p);

async function propagation(url: string): Promise<BenchRow[]> {
  const [a, b] = [new PostgresStore({ connectionString: url }), new PostgresStore({ connectionString: url })];
  await Promise.all([a.open(), b.open()]);
  try {
    const notify = await notifyLatencies(a, b);
    const polled = await pollingLatencies(a, b);
    const ratio = ms(polled, 0.5) / ms(notify, 0.5);
    return [
      goalRow('pg propagation', `LISTEN/NOTIFY p50 (${LATENCY_WRITES} writes)`, ms(notify, 0.5), `${ms(notify, 0.5).toFixed(1)} ms`, { max: 25, text: '<= 25 ms' }),
      goalRow('pg propagation', 'LISTEN/NOTIFY p99', ms(notify, 0.99), `${ms(notify, 0.99).toFixed(1)} ms`, { max: 100, text: '<= 100 ms' }),
      { bench: 'pg propagation', metric: `2 s polling p50 / p99 (${POLL_SAMPLES} writes)`, value: `${ms(polled, 0.5).toFixed(0)} ms / ${ms(polled, 0.99).toFixed(0)} ms` },
      { bench: 'pg propagation', metric: 'polling p50 / NOTIFY p50', value: fmt.ratio(ratio) },
    ];
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

export async function notifyLatencies(a: PostgresStore, b: PostgresStore, writes = LATENCY_WRITES): Promise<number[]> {
  const app = `latency-${randomBytes(4).toString('hex')}`;
  const follower = new Follower(b, app);
  const stop = await b.watch(app, () => follower.pull());
  const latencies: number[] = [];
  for (let i = 0; i < writes; i++) {
    const path = `/l/${i}.txt`;
    const arrived = follower.arrival(path);
    const start = performance.now();
    await a.push(app, 'a', [change(path, Buffer.from(`write ${i}`))]);
    latencies.push((await arrived) - start);
  }
  await stop();
  return latencies;
}

async function pollingLatencies(a: PostgresStore, b: PostgresStore): Promise<number[]> {
  const app = `polling-${randomBytes(4).toString('hex')}`;
  const follower = new Follower(b, app);
  const poller = setInterval(() => follower.pull(), POLL_INTERVAL_MS);
  try {
    // Writes every 350 ms, out of step with the 2 s poll, each timed on its own.
    const samples = Array.from({ length: POLL_SAMPLES }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 350));
      const path = `/p/${i}.txt`;
      const arrived = follower.arrival(path);
      const start = performance.now();
      await a.push(app, 'a', [change(path, Buffer.from(`write ${i}`))]);
      return (await arrived) - start;
    });
    return await Promise.all(samples);
  } finally {
    clearInterval(poller);
  }
}

async function initialSync(url: string): Promise<BenchRow[]> {
  const store = new PostgresStore({ connectionString: url });
  await store.open();
  try {
    const files = Array.from({ length: FILES }, (_, i) => change(`/init/${i}.bin`, randomBytes(FILE_BYTES)));
    const batchedApp = `init-${randomBytes(4).toString('hex')}`;
    const batched = await timed(async () => {
      for (let i = 0; i < FILES; i += BATCH) await store.push(batchedApp, 'a', files.slice(i, i + BATCH));
    });
    const singleApp = `single-${randomBytes(4).toString('hex')}`;
    const single = await timed(async () => {
      for (const file of files) await store.push(singleApp, 'a', [file]);
    });
    const fresh = new PostgresStore({ connectionString: url });
    await fresh.open();
    let pulled = 0;
    const pull = await timed(async () => {
      for (let cursor = 0, more = true; more; ) {
        const page = await fresh.since(batchedApp, [SHARED_OWNER], cursor, 1_000);
        pulled += page.rows.length;
        ({ cursor, more } = page);
      }
    });
    const rowByRow = await timed(async () => {
      for (const file of files) await fresh.get(batchedApp, SHARED_OWNER, file.path);
    });
    await fresh.close();
    if (pulled !== FILES) throw new Error(`pulled ${pulled} rows, expected ${FILES}`);
    const label = `${FILES.toLocaleString('en-US')} x 1 KiB`;
    return [
      goalRow('pg initial sync', `push ${label}, batches of ${BATCH}`, batched, fmt.ms(batched), { max: 5_000, text: '<= 5 s' }),
      { bench: 'pg initial sync', metric: 'push one row per request', value: fmt.ms(single) },
      { bench: 'pg initial sync', metric: 'one-row push / batched push', value: fmt.ratio(single / batched) },
      goalRow('pg initial sync', `pull ${label} by cursor (pages of 1,000)`, pull, fmt.ms(pull), { max: 5_000, text: '<= 5 s' }),
      { bench: 'pg initial sync', metric: 'pull one get() per row', value: fmt.ms(rowByRow) },
      { bench: 'pg initial sync', metric: 'get() per row / cursor pull', value: fmt.ratio(rowByRow / pull) },
    ];
  } finally {
    await store.close();
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function steadyState(url: string): Promise<BenchRow[]> {
  const writer = new PostgresStore({ connectionString: url });
  await writer.open();
  const rows: BenchRow[] = [];
  const idlePerMinute: number[] = [];
  try {
    for (const count of [100, FILES]) {
      const app = `idle-${count}-${randomBytes(4).toString('hex')}`;
      for (let i = 0; i < count; i += BATCH) {
        const size = Math.min(BATCH, count - i);
        await writer.push(app, 'w', Array.from({ length: size }, (_, j) => change(`/idle/${i + j}.txt`, randomBytes(FILE_BYTES))));
      }
      const { perMinute, perChange } = await idleCost(url, app);
      idlePerMinute.push(perMinute);
      rows.push(
        { bench: 'pg steady state', metric: `idle watching store, ${count.toLocaleString('en-US')} rows`, value: `${perMinute.toFixed(1)} queries/min` },
        { bench: 'pg steady state', metric: `catching up one change, ${count.toLocaleString('en-US')} rows`, value: `${perChange} queries` },
      );
    }
    const growth = idlePerMinute[1]! - idlePerMinute[0]!;
    const shown = growth <= 0 ? 'no growth' : `+${growth.toFixed(1)} queries/min`;
    rows.push(goalRow('pg steady state', 'idle queries/min, 10,000 vs 100 rows', growth, shown, { max: 0, text: 'no growth' }));
    return rows;
  } finally {
    await writer.close();
  }
}

/** Queries an idle watcher issues per minute, and how many one remote change costs it. */
async function idleCost(url: string, app: string): Promise<{ perMinute: number; perChange: number }> {
  const [watcher, writer] = [new PostgresStore({ connectionString: url }), new PostgresStore({ connectionString: url })];
  await Promise.all([watcher.open(), writer.open()]);
  try {
    let cursor = await watcher.head(app);
    let caughtUp!: () => void;
    const stop = await watcher.watch(app, () => {
      void watcher.since(app, [SHARED_OWNER], cursor).then((page) => {
        cursor = page.cursor;
        caughtUp?.();
      });
    });
    const before = watcher.queryCount;
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const perMinute = ((watcher.queryCount - before) * 60_000) / IDLE_WINDOW_MS;
    const beforeChange = watcher.queryCount;
    const done = new Promise<void>((resolve) => (caughtUp = resolve));
    await writer.push(app, 'w', [change('/idle/new.txt', Buffer.from('one change'))]);
    await done;
    await stop();
    return { perMinute, perChange: watcher.queryCount - beforeChange };
  } finally {
    await Promise.all([watcher.close(), writer.close()]);
  }
}

async function machine(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v;
  await client.end();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, PostgreSQL ${version} on 127.0.0.1`;
}

export async function run(): Promise<BenchRow[]> {
  return withScratchDatabase('store', async (url) => {
    console.error(`machine: ${await machine(url)}`);
    const rows: BenchRow[] = [];
    for (const [name, bench] of [['propagation', propagation], ['initial sync', initialSync], ['steady state', steadyState]] as const) {
      console.error(`running ${name}...`);
      rows.push(...(await bench(url)));
    }
    return rows;
  });
}

if (isMain(import.meta.url)) {
  const rows = await run();
  printRows(rows);
  console.log(`\n${markdownTable(rows)}`);
  if (rows.some((row) => row.pass === false)) process.exitCode = 1;
}
