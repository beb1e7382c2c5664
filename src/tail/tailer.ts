/**
 * The tail actor of a scope: watches each source's directory tree
 * (DirectoryWatches: one fs.watch per directory), reads the files that
 * changed, and every `rescanMs` stats the files it tails in case an event
 * was missed. One message at a time, so each file is read by one pump at a
 * time and in order. At start it reads the newest `backfillFiles` files it
 * never read (and resumes every file it has a cursor for); older ones wait
 * for `backfill()`.
 */
import { lstat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import fg from 'fast-glob';
import { Actor, type ActorCallbacks } from '../../supervisors/runtime/actor.js';
import { errorMessage } from '../errors.js';
import { DirectoryWatches } from '../sync/directory-watches.js';
import type { StoreRecords, TailOffsets } from '../../persistence/records/types.js';
import { DEFAULT_BACKFILL_FILES, DEFAULT_MAX_LINE_BYTES, DEFAULT_RESCAN_MS, type ResolvedSource } from './config.js';
import { TailedFile, parseCursor, type PumpContext, type TailedFileStatus } from './tail-file.js';
import type { FileCursor } from './identity.js';

export interface TailerOptions {
  app: string;
  sources: ResolvedSource[];
  records: StoreRecords;
  offsets: TailOffsets;
  /** The scope's root: in-scope files are named by their path under it. */
  root?: string;
  backfillFiles?: number;
  maxLineBytes?: number;
  rescanMs?: number;
  /** Told after each upsert that stored records (the `records` event). */
  onRecords?: (event: RecordsEvent) => void;
  now?: () => number;
}

export interface RecordsEvent {
  type: 'records';
  source: string;
  file: string;
  inserted: number;
  /** The app's record cursor after them. */
  head: number;
}

export interface TailSourceStatus {
  source: string;
  base: string;
  files: TailedFileStatus[];
  /** Files found but not read yet (older than the start's backfill bound): `backfill` reads them. */
  pending: number;
  lagBytes: number;
  lagMs: number;
  errors: string[];
}

export interface BackfillProgress {
  running: boolean;
  files: number;
  done: number;
}

export interface TailStatus {
  sources: TailSourceStatus[];
  backfill: BackfillProgress;
}

/**
 * Open handles kept at most: a handle lets a replaced file be finished after a rename, but thousands of
 * session files must not exhaust descriptors. Beyond it the least recently read idle files are closed
 * (read to their end, so nothing is lost; the next read reopens by path).
 */
const MAX_OPEN_FILES = 256;

/** Appends are handed over within a few ms, so lag stays low under a steady stream (the disk watcher holds up to 200 ms). */
const WATCH_TIMING = { quietMs: 2, maxHoldMs: 10 };

type TailCast =
  | { type: 'changed'; paths: string[] }
  | { type: 'sweep' }
  | { type: 'backfill'; source?: string; limit?: number; done: (files: number) => void };

export class Tailer implements ActorCallbacks<never, TailCast> {
  actor!: Actor<never, TailCast>;
  private readonly files = new Map<string, TailedFile>();
  private readonly pending = new Map<string, { source: ResolvedSource; path: string; mtimeMs: number }>();
  private readonly watches: Array<{ source: ResolvedSource; watches: DirectoryWatches }> = [];
  private readonly errors = new Map<string, string[]>();
  private saved = new Map<string, FileCursor>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepQueued = false;
  private progress: BackfillProgress = { running: false, files: 0, done: 0 };
  private readonly context: PumpContext;

  private constructor(private readonly options: TailerOptions) {
    const now = options.now ?? Date.now;
    this.context = {
      app: options.app,
      records: options.records,
      offsets: options.offsets,
      now,
      stored: (source, file, inserted, head) => options.onRecords?.({ type: 'records', source, file, inserted, head }),
    };
  }

  static async start(options: TailerOptions): Promise<Tailer> {
    const tailer = new Tailer(options);
    tailer.actor = new Actor<never, TailCast>(tailer, { name: 'tail' });
    await tailer.actor.start();
    return tailer;
  }

  async init(): Promise<void> {
    for (const row of await this.options.offsets.load(this.options.app)) {
      const cursor = parseCursor(row.state);
      if (cursor) this.saved.set(`${row.source}\0${row.file}`, cursor);
    }
    for (const source of this.options.sources) await this.watch(source);
    // The start's backfill runs as the first message, so start() returns before it is done.
    this.actor.cast({ type: 'backfill', limit: this.options.backfillFiles ?? DEFAULT_BACKFILL_FILES, done: () => this.scheduleSweep() });
  }

  handleCall(): never {
    throw new Error('the tail actor takes no calls');
  }

  async handleCast(message: TailCast): Promise<void> {
    if (message.type === 'changed') await this.changed(message.paths);
    else if (message.type === 'sweep') await this.sweep();
    else message.done(await this.runBackfill(message.source, message.limit));
  }

  async terminate(): Promise<void> {
    clearTimeout(this.sweepTimer);
    for (const { watches } of this.watches) watches.close();
    await Promise.all([...this.files.values()].map((file) => file.close()));
  }

  /** Reads files never read yet (all of them, or the newest `limit`), newest first; resolves with how many. */
  backfill(options: { source?: string; limit?: number } = {}): Promise<number> {
    return new Promise((resolve) => this.actor.cast({ type: 'backfill', ...options, done: resolve }));
  }

  status(): TailStatus {
    const now = (this.options.now ?? Date.now)();
    const sources = this.options.sources.map((source): TailSourceStatus => {
      const files = [...this.files.values()].filter((file) => file.source === source).map((file) => file.status(now));
      return {
        source: source.name,
        base: source.base,
        files,
        pending: [...this.pending.values()].filter((entry) => entry.source === source).length,
        lagBytes: files.reduce((sum, file) => sum + file.lagBytes, 0),
        lagMs: files.reduce((max, file) => Math.max(max, file.lagMs), 0),
        errors: [...(this.errors.get(source.name) ?? []), ...files.flatMap((file) => (file.error ? [`${file.file}: ${file.error}`] : []))],
      };
    });
    return { sources, backfill: { ...this.progress } };
  }

  private async watch(source: ResolvedSource): Promise<void> {
    const watches = new DirectoryWatches(source.base, (paths) => this.actor.cast({ type: 'changed', paths }), (path) => path.split(sep).includes('.scopefs'), WATCH_TIMING);
    this.watches.push({ source, watches });
    await watches.start();
    if (watches.size === 0) this.note(source, `${source.base} cannot be watched (missing?): it is checked again every rescan`);
  }

  private async changed(paths: string[]): Promise<void> {
    for (const path of paths) {
      const stats = await lstat(path).catch(() => undefined);
      if (stats?.isDirectory()) {
        for (const { source, watches } of this.watches) if (path.startsWith(source.base + sep)) await watches.add(path, true);
        continue;
      }
      const known = this.files.get(path);
      if (known) await this.pump(known);
      else if (stats?.isFile()) {
        const source = this.sourceOf(path);
        if (source) await this.pump(this.track(source, path));
      }
    }
    await this.closeIdle();
  }

  /** Reads the file; one that is gone (deleted, or renamed away and drained) is forgotten with its cursor. */
  private async pump(file: TailedFile): Promise<void> {
    await file.pump(this.context);
    if (!file.gone) return;
    this.files.delete(file.path);
    this.saved.delete(`${file.source.name}\0${file.path}`);
    await this.options.offsets.save(this.options.app, file.source.name, file.path, null).catch(() => undefined);
  }

  private async closeIdle(): Promise<void> {
    const idle = [...this.files.values()].filter((file) => file.idle);
    if (idle.length <= MAX_OPEN_FILES) return;
    idle.sort((a, b) => a.lastPumpAt - b.lastPumpAt);
    for (const file of idle.slice(0, idle.length - MAX_OPEN_FILES)) await file.close();
  }

  private async sweep(): Promise<void> {
    this.sweepQueued = false;
    try {
      for (const { source, watches } of this.watches) {
        if (watches.size > 0) continue;
        // The base directory was missing (or went away): once it is there, what it already holds is read too.
        await watches.start();
        if (watches.size === 0) continue;
        this.errors.delete(source.name); // "cannot be watched" no longer holds
        await this.runBackfill(source.name, undefined);
      }
      for (const file of [...this.files.values()]) await this.pump(file);
      await this.closeIdle();
    } finally {
      this.scheduleSweep();
    }
  }

  private scheduleSweep(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      if (this.sweepQueued || this.actor.status !== 'running') return;
      this.sweepQueued = true;
      this.actor.cast({ type: 'sweep' });
    }, this.options.rescanMs ?? DEFAULT_RESCAN_MS);
    this.sweepTimer.unref();
  }

  /** Finds the sources' files, resumes those with a cursor, reads the newest new ones up to `limit`. */
  private async runBackfill(only: string | undefined, limit: number | undefined): Promise<number> {
    const found = await this.discover(only);
    const fresh = found.filter((entry) => !this.files.has(entry.path) && !this.saved.has(`${entry.source.name}\0${entry.path}`));
    const resumed = found.filter((entry) => !this.files.has(entry.path) && this.saved.has(`${entry.source.name}\0${entry.path}`));
    fresh.sort((a, b) => b.mtimeMs - a.mtimeMs);
    const chosen = [...resumed, ...fresh.slice(0, limit ?? fresh.length)];
    for (const entry of fresh.slice(limit ?? fresh.length)) this.pending.set(entry.path, entry);
    this.progress = { running: true, files: chosen.length, done: 0 };
    for (const entry of chosen) {
      this.pending.delete(entry.path);
      await this.pump(this.track(entry.source, entry.path));
      this.progress.done++;
      if (this.progress.done % 64 === 0) await this.closeIdle();
    }
    await this.closeIdle();
    this.progress.running = false;
    return chosen.length;
  }

  private async discover(only: string | undefined): Promise<Array<{ source: ResolvedSource; path: string; mtimeMs: number }>> {
    const found: Array<{ source: ResolvedSource; path: string; mtimeMs: number }> = [];
    for (const source of this.options.sources) {
      if (only !== undefined && source.name !== only) continue;
      try {
        const entries = await fg('**/*', { cwd: source.base, absolute: true, onlyFiles: true, stats: true, dot: false, ignore: ['**/.scopefs/**'], suppressErrors: true });
        for (const entry of entries) {
          if (source.matches(relative(source.base, entry.path).split(sep).join('/'))) found.push({ source, path: entry.path, mtimeMs: entry.stats?.mtimeMs ?? 0 });
        }
      } catch (err) {
        this.note(source, `listing ${source.base} failed: ${errorMessage(err)}`);
      }
    }
    return found;
  }

  private track(source: ResolvedSource, path: string): TailedFile {
    let file = this.files.get(path);
    if (!file) {
      const name = source.inScope && this.options.root ? `/${relative(this.options.root, path).split(sep).join('/')}` : path;
      file = new TailedFile(source, path, name, this.saved.get(`${source.name}\0${path}`), this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
      this.files.set(path, file);
      this.pending.delete(path);
    }
    return file;
  }

  private sourceOf(path: string): ResolvedSource | undefined {
    return this.options.sources.find((source) => {
      const rel = relative(source.base, path);
      return !rel.startsWith('..') && rel !== '' && source.matches(rel.split(sep).join('/'));
    });
  }

  private note(source: ResolvedSource, error: string): void {
    const list = this.errors.get(source.name) ?? [];
    list.push(error);
    this.errors.set(source.name, list.slice(-10));
  }
}
