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
 * The pull is run twice per round into fresh roots, once with the disk
 * watcher off and once with it on (the library's default), in alternating
 * order round by round, and the ratio on / off of the same round is printed:
 * the goal is at most 1.5×. The push runs with the watcher on; `--no-watch`
 * turns it off there.
 *
 *   node --import tsx bench/sync-initial.ts [--files 10000] [--bytes 1024] [--rounds 1] [--no-watch]
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startScope } from '../supervisors/scope/scopes.js';
import type { FileSystem } from '../src/types.js';
import { fmt, goalRow, runIfMain, withTempDir, type BenchRow } from './lib.js';

export interface InitialOptions {
  files: number;
  bytes: number;
  /** The disk watcher of the pushing instance; on by default when syncing a root. The pull runs both ways. */
  watch: boolean;
  /** Pairs of pulls (watcher off, watcher on), each pair's order the other way round from the one before. */
  rounds: number;
}

const DEFAULTS: InitialOptions = { files: 10_000, bytes: 1024, watch: true, rounds: 1 };
/** The goal for the pull with the watcher, against the same pull without it, in the same round. */
const WATCHER_GOAL = 1.5;
const FILES_PER_DIR = 100;
const APP = 'bench';

interface Timed {
  /** startScope resolved (FileSystemServer indexed, watcher ready, sync actor started). */
  startedMs: number;
  /** `sync.idle()` resolved. */
  idleMs: number;
  /** `after` finished too (for the pull: every file on disk). */
  totalMs: number;
  /**
   * Watcher on: a file another program writes once every file is on disk
   * has been taken in too, so the watcher has caught up with the pull's own
   * writes (it looks at names in the order they changed).
   */
  seenMs?: number;
  /** Watcher on: how long a file another program writes as the pull is idle (its writes still landing) takes to be taken in. */
  duringMs?: number;
  /** `scope.stop()` resolved too: whatever the watcher still had to look at is done. */
  stoppedMs: number;
  /** CPU time of the process (user + system) from the start until stopped. */
  cpuMs: number;
  /** Of which in the kernel (system). */
  systemMs: number;
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
    if (storedRows !== options.files) throw new Error(`incomplete push: ${storedRows} rows in the store, ${options.files} expected`);
    const rounds: Round[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? [false, true] : [true, false];
      const timings = new Map<boolean, Timed>();
      for (const watch of order) timings.set(watch, await pullInto(dir, store, `r${round}-${watch ? 'on' : 'off'}`, watch, paths));
      rounds.push({ off: timings.get(false)!, on: timings.get(true)!, offFirst: order[0] === false });
    }
    return report(options, { copyMs, rawPushMs, rawPullMs }, push, rounds);
  });
}

/** One pull and its order in the round. */
interface Round {
  off: Timed;
  on: Timed;
  offFirst: boolean;
}

/** A fresh instance on an empty root pulls the store until idle and every file is on disk. */
async function pullInto(dir: string, store: string, label: string, watch: boolean, paths: string[]): Promise<Timed> {
  const expected = paths.length;
  const root = join(dir, `pulled-${label}`);
  await mkdir(root);
  const lastDir = dirname(paths[paths.length - 1]!);
  const pull = await timedScope(`initial-b-${label}`, root, store, watch, (scope) => scope.fs.flushAll().then(() => undefined), lastDir);
  const pulledFiles = await countFiles(root);
  if (pulledFiles !== expected) throw new Error(`incomplete pull (${label}): ${pulledFiles} files on disk, ${expected} expected`);
  return pull;
}

/** Starts a scope on `root`, waits until idle and `after` is done, stops it. */
async function timedScope(
  key: string,
  root: string,
  storeFile: string,
  watch: boolean,
  after: (scope: Awaited<ReturnType<typeof startScope>>) => Promise<void>,
  /** With the watcher: the directory an outside file is written into afterwards, to time when it is taken in. */
  outsideIn?: string,
): Promise<Timed> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const scope = await startScope({ scopeKey: key, root, watch, sync: { store: `sqlite:${storeFile}`, app: APP, instanceId: key } });
  const startedMs = performance.now() - start;
  let idleMs: number;
  let totalMs: number;
  let seenMs: number | undefined;
  let duringMs: number | undefined;
  try {
    await scope.sync!.idle({ timeoutMs: 300_000 });
    idleMs = performance.now() - start;
    if (watch && outsideIn !== undefined) {
      // While the pull's writes are still landing (they are queued as each file arrives; flushAll only waits for them).
      const written = performance.now();
      await outsideFileSeen(scope.fs, root, `/${DURING_NAME}`);
      duringMs = performance.now() - written;
    }
    await after(scope);
    totalMs = performance.now() - start;
    if (watch && outsideIn !== undefined) {
      await outsideFileSeen(scope.fs, root, `/${outsideIn}/${OUTSIDE_NAME}`);
      seenMs = performance.now() - start;
    }
  } finally {
    await scope.stop();
  }
  const used = process.cpuUsage(cpu);
  return { startedMs, idleMs, totalMs, seenMs, duringMs, stoppedMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000, systemMs: used.system / 1000 };
}

/**
 * In the last directory the pull creates, so the watcher looks at it after
 * the echoes of the pull's own writes; a name the sync denylist keeps out of
 * the store (a key file), so later pulls do not pull it.
 */
const OUTSIDE_NAME = 'after-pull.key';
/** The same, in the root, written while the pull's writes are landing. */
const DURING_NAME = 'during-pull.key';

/** Writes a file on disk as another program would and waits until the server has taken it in. */
async function outsideFileSeen(fs: FileSystem, root: string, path: string): Promise<void> {
  const seen = new Promise<void>((resolve) => {
    const unsubscribe = fs.subscribe((event) => {
      if (event.type === 'file_updated' && event.path === path) resolve(unsubscribe());
    });
  });
  await writeFile(join(root, path), 'written by another program\n');
  // A timer that keeps the process alive meanwhile: the watcher's own timers do not (a scope never holds a process open).
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${path} not taken in from disk within 300 s`)), 300_000)));
  await Promise.race([seen, timeout]).finally(() => clearTimeout(timer));
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
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && e.name !== OUTSIDE_NAME && e.name !== DURING_NAME && !e.parentPath.includes('.scopefs')).length;
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
  rounds: Round[],
): BenchRow[] {
  const bench = 'sync-initial';
  const what = `${options.files.toLocaleString('en-US')} files × ${options.bytes} B`;
  const variant = options.watch ? '' : ' (no watcher)';
  const goal = { max: 10_000, text: '≤ 10 s' };
  const phases = (t: Timed) => `${fmt.ms(t.idleMs)} (startScope ${fmt.ms(t.startedMs)})`;
  const rows: BenchRow[] = [goalRow(bench, `(a) push ${what} into an empty store${variant}: idle`, push.idleMs, phases(push), goal)];
  rounds.forEach((round, i) => {
    const tag = rounds.length > 1 ? ` [round ${i + 1}, ${round.offFirst ? 'off first' : 'on first'}]` : '';
    for (const [name, t] of [['watcher off', round.off], ['watcher on', round.on]] as const) {
      rows.push({ bench, metric: `(b) pull ${what} into an empty root, ${name}${tag}: idle`, value: phases(t) });
      rows.push(goalRow(bench, `(b) pull ${what} into an empty root, ${name}${tag}: idle and all on disk`, t.totalMs, fmt.ms(t.totalMs), goal));
      rows.push({ bench, metric: `(b) pull, ${name}${tag}: stopped; process CPU until then`, value: `${fmt.ms(t.stoppedMs)}; ${fmt.ms(t.cpuMs)} (system ${fmt.ms(t.systemMs)})` });
    }
    const ratio = round.on.totalMs / round.off.totalMs;
    rows.push(goalRow(bench, `(b) pull, all on disk: watcher on / watcher off${tag}`, ratio, fmt.ratio(ratio), { max: WATCHER_GOAL, text: `≤ ${WATCHER_GOAL}×` }));
    const seen = round.on.seenMs! / round.off.totalMs;
    rows.push({ bench, metric: `(b) pull, watcher on${tag}: an outside file written as the pull is idle (its writes landing), taken in after`, value: fmt.ms(round.on.duringMs!) });
    rows.push({ bench, metric: `(b) pull, watcher on${tag}: an outside file written into the last directory once all is on disk, taken in`, value: fmt.ms(round.on.seenMs!) });
    rows.push(goalRow(bench, `(b) pull: watcher on, caught up / watcher off, all on disk${tag}`, seen, fmt.ratio(seen), { max: WATCHER_GOAL, text: `≤ ${WATCHER_GOAL}×` }));
    const stopped = round.on.stoppedMs / round.off.stoppedMs;
    const cpu = round.on.cpuMs / round.off.cpuMs;
    rows.push({ bench, metric: `(b) pull, until stopped: watcher on / watcher off${tag}`, value: `${fmt.ratio(stopped)} (CPU ${fmt.ratio(cpu)})` });
  });
  const last = rounds[rounds.length - 1]!;
  rows.push(
    { bench, metric: 'baseline: raw push (read, hash, INSERT, one transaction)', value: fmt.ms(baseline.rawPushMs) },
    { bench, metric: 'baseline: raw pull (SELECT, writeFile, no fsync)', value: fmt.ms(baseline.rawPullMs) },
    { bench, metric: 'baseline: fs.cp of the tree', value: fmt.ms(baseline.copyMs) },
    { bench, metric: '(a) scopefs / raw push', value: fmt.ratio(push.idleMs / baseline.rawPushMs) },
    { bench, metric: '(b) scopefs, watcher on, all on disk / raw pull', value: fmt.ratio(last.on.totalMs / baseline.rawPullMs) },
    { bench, metric: '(b) scopefs, watcher off, all on disk / raw pull', value: fmt.ratio(last.off.totalMs / baseline.rawPullMs) },
  );
  return rows;
}

function parseCli(): InitialOptions {
  const { values } = parseArgs({
    options: { files: { type: 'string' }, bytes: { type: 'string' }, rounds: { type: 'string' }, 'no-watch': { type: 'boolean' } },
  });
  return {
    files: Number(values.files ?? DEFAULTS.files),
    bytes: Number(values.bytes ?? DEFAULTS.bytes),
    watch: !values['no-watch'],
    rounds: Number(values.rounds ?? DEFAULTS.rounds),
  };
}

await runIfMain(import.meta.url, () => run(parseCli()));
