/**
 * JSONL tailing (docs/tail.md):
 *
 * - Throughput: lines/s from a file of TAIL_LINES lines (~120 bytes each) into
 *   SQLite and PostgreSQL records, against a plain `INSERT … ON CONFLICT DO
 *   NOTHING` loop of the same rows into the same kind of database in the
 *   same run (batched as the tail batches: one transaction per 2,000 rows on
 *   SQLite, one 500-row statement on PostgreSQL).
 * - Lag: a writer process appends 1,000 lines/s (10 every 10 ms) for
 *   TAIL_LAG_SECONDS; each line carries its write time; lag is the time from
 *   the append to the `records` event of the upsert that stored it. p50/p99.
 *
 * TAIL_PG=0 skips PostgreSQL (SCOPEFS_BENCH_POSTGRES_URL, default the local server).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteRecords, SqliteTailOffsets } from '../persistence/records/sqlite-records.js';
import { openStoreRecords } from '../persistence/records/open-records.js';
import type { StoreRecords } from '../persistence/records/types.js';
import { migrate } from '../persistence/sql/migrate.js';
import { PostgresStore } from '../persistence/stores/postgres-store.js';
import { resolveSources } from '../src/tail/config.js';
import { Tailer, type RecordsEvent } from '../src/tail/tailer.js';
import { fmt, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';
import { withScratchDatabase } from './pg-scratch.js';

const LINES = Number(process.env.TAIL_LINES ?? 50_000);
const LAG_SECONDS = Number(process.env.TAIL_LAG_SECONDS ?? 10);
const line = (i: number) => JSON.stringify({ i, role: i % 2 ? 'assistant' : 'user', text: `message number ${i} of the bench transcript`, ts: 1_700_000_000_000 + i });
const now = () => performance.timeOrigin + performance.now();

export async function run(): Promise<BenchRow[]> {
  return withTempDir('tail', async (dir) => {
    const logs = join(dir, 'logs');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'big.jsonl'), Array.from({ length: LINES }, (_, i) => `${line(i)}\n`).join(''));
    const rows: BenchRow[] = [];
    const sqlite = new SqliteRecords(join(dir, 'records.db'));
    try {
      const tailed = await tailOnce(dir, logs, 'big.jsonl', sqlite, 'sqlite');
      const plain = plainSqlite(join(dir, 'plain.db'));
      rows.push(...throughput('SQLite', tailed, plain));
      rows.push(...(await lag(dir, join(logs, 'lag-sqlite'), sqlite, 'SQLite')));
    } finally {
      await sqlite.close();
    }
    if (process.env.TAIL_PG !== '0') {
      await withScratchDatabase('tail', async (url) => {
        await migrate(url);
        const store = new PostgresStore({ connectionString: url });
        await store.open();
        try {
          const records = openStoreRecords(store);
          const tailed = await tailOnce(dir, logs, 'big.jsonl', records, 'pg');
          const plain = await plainPostgres(url);
          rows.push(...throughput('PostgreSQL', tailed, plain));
          rows.push(...(await lag(dir, join(logs, 'lag-pg'), records, 'PostgreSQL')));
        } finally {
          await store.close();
        }
      });
    }
    return rows;
  });
}

function throughput(store: string, tailed: number, plain: number): BenchRow[] {
  return [
    { bench: 'tail', metric: `${store}: tail ${LINES} lines into records`, value: `${Math.round(tailed).toLocaleString('en-US')} lines/s` },
    { bench: 'tail', metric: `${store}: plain INSERT … ON CONFLICT DO NOTHING loop (baseline)`, value: `${Math.round(plain).toLocaleString('en-US')} rows/s` },
    { bench: 'tail', metric: `${store}: tail / plain insert`, value: fmt.ratio(tailed / plain) },
  ];
}

/** Lines per second for a tail of the file from 0 to its end (start to the last records event). */
async function tailOnce(dir: string, logs: string, file: string, records: StoreRecords, app: string): Promise<number> {
  const offsets = new SqliteTailOffsets(join(dir, `offsets-${app}.db`));
  let head = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = now();
  const tailer = await Tailer.start({
    app, records, offsets, sources: resolveSources([{ glob: join(logs, file) }], undefined),
    onRecords: (event) => {
      head = event.head;
      if (head >= LINES) done();
    },
  });
  await finished;
  const seconds = (now() - started) / 1000;
  await tailer.actor.stop('shutdown', 10_000);
  await offsets.close();
  return LINES / seconds;
}

function plainSqlite(file: string): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE plain (app TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, file TEXT, byte_offset INTEGER, line_no INTEGER, value TEXT, at INTEGER, PRIMARY KEY (app, key))');
  const insert = db.prepare('INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, key) DO NOTHING');
  const started = now();
  const BATCH = 2000;
  for (let from = 0; from < LINES; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(LINES, from + BATCH); i++) insert.run('plain', `k${i}`, i + 1, '/big.jsonl', i * 120, i + 1, line(i), Date.now());
    }).immediate();
  }
  const seconds = (now() - started) / 1000;
  db.close();
  return LINES / seconds;
}

async function plainPostgres(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE plain (app text NOT NULL, key text NOT NULL, seq bigint NOT NULL, file text, byte_offset bigint, line_no bigint, value jsonb, at bigint, PRIMARY KEY (app, key))');
  const BATCH = 500;
  const started = now();
  for (let from = 0; from < LINES; from += BATCH) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = from; i < Math.min(LINES, from + BATCH); i++) {
      const n = values.length;
      tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8})`);
      values.push('plain', `k${i}`, i + 1, '/big.jsonl', i * 120, i + 1, line(i), Date.now());
    }
    await client.query(`INSERT INTO plain VALUES ${tuples.join(', ')} ON CONFLICT (app, key) DO NOTHING`, values);
  }
  const seconds = (now() - started) / 1000;
  await client.end();
  return LINES / seconds;
}

/** A writer process appends 1,000 lines/s; lag = the records event that stored a line − its append. */
async function lag(dir: string, file: string, records: StoreRecords, store: string): Promise<BenchRow[]> {
  const app = `lag-${store}`;
  writeFileSync(`${file}.jsonl`, '');
  const offsets = new SqliteTailOffsets(join(dir, `offsets-${app}.db`));
  const events: Array<{ head: number; at: number }> = [];
  const tailer = await Tailer.start({
    app, records, offsets, sources: resolveSources([{ glob: `${file}.jsonl` }], undefined),
    onRecords: (event: RecordsEvent) => events.push({ head: event.head, at: now() }),
  });
  const total = LAG_SECONDS * 1000;
  const writer = spawn(process.execPath, ['-e', WRITER, `${file}.jsonl`, String(total)], { stdio: 'inherit' });
  await once(writer, 'exit');
  while ((events.at(-1)?.head ?? 0) < total) await new Promise((resolve) => setTimeout(resolve, 20));
  await tailer.actor.stop('shutdown', 10_000);
  await offsets.close();
  const stored = [];
  for (let cursor = 0; stored.length < total; ) {
    const page = await records.since(app, cursor, { limit: 10_000 });
    if (page.length === 0) break;
    stored.push(...page);
    cursor = page.at(-1)!.seq;
  }
  const lags: number[] = [];
  let e = 0;
  for (const record of stored) {
    while (events[e]!.head < record.seq) e++;
    lags.push(events[e]!.at - (record.json as { t: number }).t);
  }
  lags.sort((a, b) => a - b);
  return [
    { bench: 'tail', metric: `${store}: lag append → record at 1,000 lines/s, p50`, value: `${percentile(lags, 0.5).toFixed(1)} ms` },
    { bench: 'tail', metric: `${store}: lag append → record at 1,000 lines/s, p99`, value: `${percentile(lags, 0.99).toFixed(1)} ms` },
  ];
}

/** Appends `total` lines to argv[1], 10 every 10 ms, each with its append time (ms, sub-ms precision). */
const WRITER = `
const { appendFileSync } = require('node:fs');
const [file, total] = [process.argv[1], Number(process.argv[2])];
let i = 0;
const tick = setInterval(() => {
  for (let k = 0; k < 10 && i < total; k++, i++) {
    appendFileSync(file, JSON.stringify({ i, t: performance.timeOrigin + performance.now(), text: 'steady line ' + i }) + '\\n');
  }
  if (i >= total) clearInterval(tick);
}, 10);
`;

await runIfMain(import.meta.url, run);
