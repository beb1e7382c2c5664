/**
 * History on SQLite (persistence/history/sqlite-history.ts): a checkpoint of
 * 10,000 files with 10 changed since the previous one (time, rows and bytes
 * added to the database file), and reading a 10,000-file checkpoint manifest
 * back (what a restore reads first). Baseline of the same run: a naive
 * checkpoint that inserts the whole manifest as rows with one prepared
 * statement in one transaction, and a plain SELECT of those rows. Medians of
 * RUNS checkpoints.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sha256 } from '../src/content.js';
import { SqliteHistory } from '../persistence/history/sqlite-history.js';
import type { CheckpointFile, NewVersion } from '../persistence/history/types.js';
import { fmt, goalRow, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';

const FILES = 10_000;
const CHANGED = 10;
const RUNS = 5;
const SCOPE = 'bench';

export async function runHistoryBench(): Promise<BenchRow[]> {
  return withTempDir('history', async (dir) => {
    const file = join(dir, 'history.db');
    const history = new SqliteHistory({ file });
    try {
      const files = await seed(history);
      const ours = await measureCheckpoints(history, file, files);
      const readMs = median(await repeat(async () => timed(() => history.checkpoint(SCOPE, `c${RUNS}`))));
      const base = measureNaive(join(dir, 'naive.db'), files);
      const bench = `history: checkpoint of ${FILES.toLocaleString('en-US')} files, ${CHANGED} changed`;
      return [
        goalRow(bench, 'checkpoint time', ours.ms, `${fmt.ms(ours.ms)}; full-manifest insert ${fmt.ms(base.insertMs)} (${fmt.ratio(ours.ms / base.insertMs)})`, { max: 200, text: '< 200 ms' }),
        { bench, metric: 'manifest rows added', value: `${ours.rows}; full-manifest insert ${FILES}` },
        { bench, metric: 'bytes added to the database', value: `${kib(ours.bytes)}; full-manifest insert ${kib(base.bytes)} (${fmt.ratio(ours.bytes / base.bytes)})` },
        goalRow(bench, `read a ${FILES.toLocaleString('en-US')}-file manifest (restore)`, readMs, `${fmt.ms(readMs)}; plain SELECT ${fmt.ms(base.readMs)} (${fmt.ratio(readMs / base.readMs)})`, { max: 2_000, text: '< 2 s' }),
      ];
    } finally {
      await history.close();
    }
  });
}

/** Records FILES files and a first checkpoint of them all. */
async function seed(history: SqliteHistory): Promise<CheckpointFile[]> {
  const versions: NewVersion[] = Array.from({ length: FILES }, (_, i) => newVersion(`/dir${i % 100}/file-${i}.md`, `# file ${i}\n${'x'.repeat(200)}`));
  await history.record(SCOPE, versions);
  const files = versions.map((v) => ({ path: v.path, hash: v.hash!, size: v.content!.byteLength }));
  await history.saveCheckpoint(SCOPE, { name: 'c0', prefix: '/', at: Date.now(), files });
  return files;
}

async function measureCheckpoints(history: SqliteHistory, file: string, files: CheckpointFile[]) {
  const times: number[] = [];
  const bytes: number[] = [];
  const rows: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const changed = await changeSome(history, files, run);
    const before = fileBytes(file);
    const rowsBefore = manifestRows(file);
    times.push(await timed(() => history.saveCheckpoint(SCOPE, { name: `c${run}`, prefix: '/', at: Date.now(), files: changed })));
    bytes.push(fileBytes(file) - before);
    rows.push(manifestRows(file) - rowsBefore);
    files = changed;
  }
  return { ms: median(times), bytes: median(bytes), rows: median(rows) };
}

/** Records new content for CHANGED files spread over the set; returns the new manifest. */
async function changeSome(history: SqliteHistory, files: CheckpointFile[], run: number): Promise<CheckpointFile[]> {
  const next = [...files];
  const versions: NewVersion[] = [];
  for (let k = 0; k < CHANGED; k++) {
    const index = (k * 997 + run * 13) % FILES;
    const version = newVersion(next[index]!.path, `# run ${run} change ${k}\n${'y'.repeat(200)}`);
    versions.push(version);
    next[index] = { path: version.path, hash: version.hash!, size: version.content!.byteLength };
  }
  await history.record(SCOPE, versions);
  return next;
}

/** The baseline: every manifest row inserted, then read back. */
function measureNaive(file: string, files: CheckpointFile[]) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE manifest (checkpoint TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (checkpoint, path))');
  const insert = db.prepare('INSERT INTO manifest VALUES (?, ?, ?, ?)');
  const select = db.prepare('SELECT path, hash, size FROM manifest WHERE checkpoint = ? ORDER BY path');
  const insertTimes: number[] = [];
  const bytes: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const before = fileBytes(file);
    const start = performance.now();
    db.transaction(() => {
      for (const f of files) insert.run(`c${run}`, f.path, f.hash, f.size);
    }).immediate();
    insertTimes.push(performance.now() - start);
    bytes.push(fileBytes(file) - before);
  }
  const readTimes = Array.from({ length: RUNS }, () => {
    const start = performance.now();
    select.all(`c${RUNS}`);
    return performance.now() - start;
  });
  db.close();
  // Run 0 creates the table's first pages; compare against the steady runs.
  return { insertMs: median(insertTimes.slice(1)), bytes: median(bytes.slice(1)), readMs: median(readTimes) };
}

function newVersion(path: string, body: string): NewVersion {
  const content = new Uint8Array(Buffer.from(body));
  return { path, content, hash: sha256(content), at: Date.now(), origin: 'local' };
}

/** The database file's size with its WAL copied in and truncated: what the data occupies. */
function fileBytes(file: string): number {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return statSync(file).size;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function manifestRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM scopefs_history_manifest').pluck().get() as number;
  } finally {
    db.close();
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function repeat(measure: () => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await measure());
  return results;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

await runIfMain(import.meta.url, runHistoryBench);
