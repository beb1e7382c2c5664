/**
 * Initial sync of many small files through a SQLite store:
 *  (a) an instance whose root already holds N files starts against an empty
 *      store; timed from `startScope` until `sync.idle()` (everything pushed);
 *  (b) a fresh instance with an empty root starts against that store; timed
 *      until `sync.idle()` (every file in its FileSystemServer: journaled,
 *      readable, events sent) and until `fs.flushAll()` has returned too
 *      (every file on disk).
 * Goal: at most 10 s each for 10,000 files of 1 KiB.
 * Baselines, same files: a hand-rolled push (read, hash, one INSERT per file
 * in one transaction, raw better-sqlite3) and pull (one SELECT, one
 * writeFile per file, no fsync), and `fs.cp` of the tree as the floor of
 * merely copying the files.
 *
 * Both instances run with the library's defaults, so the disk watcher is on;
 * `--no-watch` turns it off to show what it costs.
 *
 *   node --import tsx bench/sync-initial.ts [--files 10000] [--bytes 1024] [--no-watch]
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startScope } from '../supervisors/scope/scopes.js';
import { fmt, goalRow, runIfMain, withTempDir, type BenchRow } from './lib.js';

export interface InitialOptions {
  files: number;
  bytes: number;
  /** The disk watcher (chokidar) of both instances; on by default when syncing a root. */
  watch: boolean;
}

const DEFAULTS: InitialOptions = { files: 10_000, bytes: 1024, watch: true };
const FILES_PER_DIR = 100;
const APP = 'bench';

interface Timed {
  /** startScope resolved (FileSystemServer indexed, watcher ready, sync actor started). */
  startedMs: number;
  /** `sync.idle()` resolved. */
  idleMs: number;
  /** `after` finished too (for the pull: every file on disk). */
  totalMs: number;
}

export async function run(options: InitialOptions = DEFAULTS): Promise<BenchRow[]> {
  const paths = Array.from({ length: options.files }, (_, i) => {
    const dir = `d${String(Math.floor(i / FILES_PER_DIR)).padStart(3, '0')}`;
    return `${dir}/f${String(i).padStart(5, '0')}.md`;
  });
  return withTempDir('sync-initial', async (dir) => {
    const source = join(dir, 'source');
    await writeTree(source, paths, options.bytes);
    const copyMs = await timed(() => cp(source, join(dir, 'copy'), { recursive: true }));
    const rawPushMs = await timed(() => rawPush(source, paths, join(dir, 'raw.db')));
    const rawPullMs = await timed(() => rawPull(join(dir, 'raw.db'), join(dir, 'raw-pulled')));

    const store = join(dir, 'store.db');
    const push = await timedScope('initial-a', source, store, options.watch, async () => undefined);
    const storedRows = countStoreRows(store);
    const pulledRoot = join(dir, 'pulled');
    await mkdir(pulledRoot);
    const pull = await timedScope('initial-b', pulledRoot, store, options.watch, (scope) => scope.fs.flushAll().then(() => undefined));
    const pulledFiles = await countFiles(pulledRoot);
    if (storedRows !== options.files || pulledFiles !== options.files) {
      throw new Error(`incomplete sync: ${storedRows} rows in the store, ${pulledFiles} files pulled, ${options.files} expected`);
    }
    return report(options, { copyMs, rawPushMs, rawPullMs }, push, pull);
  });
}

/** Starts a scope on `root`, waits until idle and `after` is done, stops it. */
async function timedScope(
  key: string,
  root: string,
  storeFile: string,
  watch: boolean,
  after: (scope: Awaited<ReturnType<typeof startScope>>) => Promise<void>,
): Promise<Timed> {
  const start = performance.now();
  const scope = await startScope({ scopeKey: key, root, watch, sync: { store: `sqlite:${storeFile}`, app: APP, instanceId: key } });
  const startedMs = performance.now() - start;
  try {
    await scope.sync!.idle({ timeoutMs: 300_000 });
    const idleMs = performance.now() - start;
    await after(scope);
    return { startedMs, idleMs, totalMs: performance.now() - start };
  } finally {
    await scope.stop();
  }
}

async function writeTree(root: string, paths: string[], bytes: number): Promise<void> {
  for (const path of paths) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, contentFor(path, bytes));
  }
}

function contentFor(path: string, bytes: number): string {
  const head = `# ${path}\n`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length - 1)) + '\n';
}

/** The hand-rolled push: read, hash, one INSERT per file, all in one transaction. */
async function rawPush(root: string, paths: string[], dbFile: string): Promise<void> {
  const rows = await Promise.all(
    paths.map(async (path) => {
      const content = await readFile(join(root, path));
      return { path, content, hash: createHash('sha256').update(content).digest('hex') };
    }),
  );
  const db = openRaw(dbFile);
  const insert = db.prepare('INSERT INTO files (path, hash, content) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const row of rows) insert.run(row.path, row.hash, row.content);
  })();
  db.close();
}

/** The hand-rolled pull: one SELECT, one writeFile per file. */
async function rawPull(dbFile: string, root: string): Promise<void> {
  const db = openRaw(dbFile);
  const rows = db.prepare('SELECT path, content FROM files ORDER BY rev').all() as Array<{ path: string; content: Buffer }>;
  db.close();
  for (const row of rows) {
    const file = join(root, row.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, row.content);
  }
}

function openRaw(dbFile: string): Database.Database {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS files (rev INTEGER PRIMARY KEY, path TEXT UNIQUE, hash TEXT, content BLOB)');
  return db;
}

function countStoreRows(storeFile: string): number {
  const db = new Database(storeFile, { readonly: true });
  try {
    const count = db.prepare('SELECT count(*) FROM scopefs_files WHERE app = ? AND deleted = 0').pluck().get(APP);
    return count as number;
  } finally {
    db.close();
  }
}

/** Files under `root`, not counting the engine's own (`.scopefs/`, status files). */
async function countFiles(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && !e.parentPath.includes('.scopefs')).length;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

function report(
  options: InitialOptions,
  baseline: { copyMs: number; rawPushMs: number; rawPullMs: number },
  push: Timed,
  pull: Timed,
): BenchRow[] {
  const bench = 'sync-initial';
  const what = `${options.files.toLocaleString('en-US')} files × ${options.bytes} B`;
  const variant = options.watch ? '' : ' (no watcher)';
  const goal = { max: 10_000, text: '≤ 10 s' };
  const phases = (t: Timed) => `${fmt.ms(t.idleMs)} (startScope ${fmt.ms(t.startedMs)})`;
  return [
    goalRow(bench, `(a) push ${what} into an empty store${variant}: idle`, push.idleMs, phases(push), goal),
    { bench, metric: `(b) pull ${what} into an empty root${variant}: idle`, value: phases(pull) },
    goalRow(bench, `(b) pull ${what} into an empty root${variant}: idle and all on disk`, pull.totalMs, fmt.ms(pull.totalMs), goal),
    { bench, metric: 'baseline: raw push (read, hash, INSERT, one transaction)', value: fmt.ms(baseline.rawPushMs) },
    { bench, metric: 'baseline: raw pull (SELECT, writeFile, no fsync)', value: fmt.ms(baseline.rawPullMs) },
    { bench, metric: 'baseline: fs.cp of the tree', value: fmt.ms(baseline.copyMs) },
    { bench, metric: '(a) scopefs / raw push', value: fmt.ratio(push.idleMs / baseline.rawPushMs) },
    { bench, metric: '(b) scopefs, all on disk / raw pull', value: fmt.ratio(pull.totalMs / baseline.rawPullMs) },
  ];
}

function parseCli(): InitialOptions {
  const { values } = parseArgs({
    options: { files: { type: 'string' }, bytes: { type: 'string' }, 'no-watch': { type: 'boolean' } },
  });
  return {
    files: Number(values.files ?? DEFAULTS.files),
    bytes: Number(values.bytes ?? DEFAULTS.bytes),
    watch: !values['no-watch'],
  };
}

await runIfMain(import.meta.url, () => run(parseCli()));
