/**
 * The FileSystemServer's state and the steps every handler is built from.
 * Everything here runs inside the actor (one handler at a time), except
 * `peekLoaded`/`snapshot`, which only read, and the persister's completion
 * bookkeeping (see persister.ts).
 *
 * The durability pipeline of every change is: validate, append the journal
 * record (journal mode), apply to memory, then schedule persistence (a new
 * file at once, an update on its debounce timer, `immediate` awaited), then
 * emit the event.
 */
import { isVersioned, type VersionTag } from '../../persistence/drivers/types.js';
import { ScopeFsError, errorMessage, fsErrors } from '../errors.js';
import type { Durability, EntryMeta, FlushResult, FsEvent, FsStats, PersistenceConfig } from '../types.js';
import { ConfigTable, type Location } from './configs.js';
import { DiskBases } from './disk-bases.js';
import { DiskReplica, rebaseReplayed } from './disk-replica.js';
import { EntryTable, putOp, setContent, toMeta, type Entry } from './entries.js';
import { indexConfig, replayOps } from './indexer.js';
import { Journal } from './journal.js';
import type { JournalOp } from './journal-codec.js';
import { Persister } from './persister.js';
import { PersistScheduler, type RetryOptions } from './persist-scheduler.js';
import { Subscribers } from './events.js';

export interface CoreOptions {
  configs: PersistenceConfig[];
  durability: Durability;
  journalPath: string | undefined;
  fsyncJournal: boolean;
  debounceMs: number;
  maxFileBytes: number;
  retry: RetryOptions;
  /** Called (outside the actor) when a persist timer fires; should post `due(key)` to the mailbox. */
  onTimer: (key: string) => void;
  /** Runs `job` as a message of the actor (the continuation of work that went outside the mailbox). */
  post: (job: (core: ServerCore) => unknown) => void;
}

/** What a lazy load brings back: the bytes, and their version on a versioned driver. */
export interface LoadedFile {
  content: Uint8Array;
  version?: VersionTag;
}

/** How often a flush reconciles paths whose disk changed under it and flushes again. */
const FLUSH_RECONCILE_ROUNDS = 3;

/** Below this size the journal is never rewritten, only truncated when everything is persisted. */
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;

export class ServerCore {
  /** Lazy loads in flight, so concurrent first reads share one. */
  private readonly loads = new Map<Entry, Promise<LoadedFile | null>>();
  readonly entries = new EntryTable();
  /** What scopefs last wrote or read on disk, per path. */
  readonly bases = new DiskBases();
  /** Reconciles what other programs do to the disk with memory. */
  readonly replica: DiskReplica;
  readonly configs: ConfigTable;
  readonly subscribers = new Subscribers();
  readonly scheduler: PersistScheduler;
  readonly persister: Persister;
  readonly durability: Durability;
  private readonly options: CoreOptions;
  private journal: Journal | undefined;
  private compactAtBytes = COMPACT_MIN_BYTES;
  private clock = 0;

  constructor(options: CoreOptions) {
    this.options = options;
    // Without a journal file there is nowhere to journal to: journal mode degrades to debounced.
    this.durability = options.durability === 'journal' && !options.journalPath ? 'debounced' : options.durability;
    this.configs = new ConfigTable({ debounceMs: options.debounceMs, maxFileBytes: options.maxFileBytes });
    for (const config of options.configs) this.configs.add(config);
    this.scheduler = new PersistScheduler(options.onTimer, options.retry);
    this.persister = new Persister({
      entries: this.entries,
      configs: this.configs,
      scheduler: this.scheduler,
      bases: this.bases,
      onSettled: () => this.settleJournal(),
      // Safe between handlers: a check only queues a read; its outcome is applied in the mailbox.
      onDiverged: (path) => void this.replica.check(path),
      onRefused: (path, reason) => this.replica.alert(path, 'refused', reason),
    });
    this.replica = new DiskReplica(this);
  }

  /** Runs `job` as a later message of the actor. */
  post(job: (core: ServerCore) => unknown): void {
    this.options.post(job);
  }

  // ---- lifecycle -------------------------------------------------------

  /** Indexes every config, replays the journal, and starts persisting what the journal held. */
  async init(): Promise<void> {
    for (const config of this.configs.all()) await indexConfig(this, config);
    await this.recoverJournal();
  }

  /** Flushes everything, then leaves the journal holding only what could not be persisted. */
  async terminate(): Promise<void> {
    try {
      await this.flush();
      await this.persister.drain();
    } finally {
      this.persister.close();
      this.scheduler.clear();
      this.subscribers.clear();
      this.closeJournal();
    }
  }

  /** Flushes, drops memory (memory-only files too) and re-indexes. Refuses (EIO) while anything fails to persist. */
  async reset(): Promise<void> {
    const result = await this.flush();
    if (result.failed.length > 0) {
      const paths = result.failed.map((f) => f.path).join(', ');
      throw new ScopeFsError('EIO', `reset refused: ${result.failed.length} change(s) could not be persisted (${paths})`);
    }
    await this.persister.drain();
    this.scheduler.clear();
    this.persister.clear();
    this.entries.clear();
    this.bases.clear();
    for (const config of this.configs.all()) await indexConfig(this, config);
    this.settleJournal();
  }

  /**
   * Persists everything; a write that found the disk changed is reconciled
   * and flushed again, so what this returns describes the disk as it is.
   */
  async flush(): Promise<FlushResult> {
    let result = await this.persister.flush();
    for (let round = 0; round < FLUSH_RECONCILE_ROUNDS && this.replica.busy; round++) {
      await this.replica.drain();
      result = await this.persister.flush();
    }
    this.settleJournal();
    return result;
  }

  /** Indexing left a file out because of its name: reported, never served under another one. */
  onSkipped(name: string, reason: string, collides: boolean): void {
    this.replica.skipped(name, reason, collides);
  }

  nextRevision(): number {
    return ++this.clock;
  }

  // ---- steps of a change -----------------------------------------------

  /** The location a change to `path` persists to; undefined when memory-only. Throws EROFS when readonly. */
  writableLocation(path: string): Location | undefined {
    const location = this.configs.locate(path);
    if (location?.config.readonly) throw fsErrors.readonly(path, location.config.base);
    return location;
  }

  /** EINVAL when a new file at `path` could never be persisted (a link or a directory in the way, too long for the OS). */
  assertPersistable(location: Location | undefined): void {
    const driver = location?.config.driver;
    if (driver && isVersioned(driver)) driver.assertPersistable(location.driverPath);
  }

  assertSize(path: string, bytes: number): void {
    const limit = this.configs.maxFileBytes(path);
    if (bytes > limit) throw fsErrors.tooBig(path, bytes, limit);
  }

  /** ESTALE unless the file is at `expected` (0: must not exist). */
  assertRevision(path: string, entry: Entry | undefined, expected: number | undefined): void {
    if (expected === undefined) return;
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw fsErrors.invalid(`ifRevision must be a non-negative integer, got ${String(expected)}`, path);
    }
    const actual = entry?.revision ?? 0;
    if (actual !== expected) throw fsErrors.stale(path, expected, actual);
  }

  /** Writes a journal record; when this returns, the change survives a killed process. */
  journalAppend(ops: JournalOp[], path: string): void {
    // In other modes a journal is open only while a crashed run's records are being persisted; changes
    // must be appended to it too, or replaying it after another crash could bring back older content.
    if (!this.journal || ops.length === 0) return;
    try {
      if (!this.journal.intact()) this.recreateJournal();
      this.journal.append(this.withDiskBases(ops));
    } catch (err) {
      throw fsErrors.io(path, err);
    }
  }

  /**
   * The journal file was removed or replaced under us (the root deleted, a
   * `.scopefs/` cleaned up): appending to the old file descriptor would
   * acknowledge writes into a file nobody can replay. A new journal is
   * written at its path with everything not yet persisted, before the
   * change that noticed it is acknowledged.
   */
  private recreateJournal(): void {
    const old = this.journal!;
    old.abandon();
    this.journal = Journal.create(old.path, this.pendingOps(), { fsyncEachRecord: this.options.fsyncJournal });
    this.replica.alert(
      '/',
      'journal_recreated',
      `the journal ${JSON.stringify(old.path)} was removed or replaced while running; it was written again with the ${this.entries.dirtyCount} change(s) not yet on disk`,
    );
  }

  /** Schedules persistence of a changed entry: a new file at once, an update after its debounce. */
  async schedulePersist(entry: Entry, location: Location | undefined, created: boolean): Promise<void> {
    if (!entry.dirty || !location) return;
    if (this.durability === 'immediate') return this.persistNow(entry.path);
    if (created) void this.persister.persist(entry.path);
    else this.scheduler.debounce(entry.path, location.config.debounceMs);
  }

  /** Persists `path` now and throws EIO when that fails (the entry stays dirty and is retried). */
  async persistNow(path: string): Promise<void> {
    const error = await this.persister.persist(path);
    if (error !== undefined) throw fsErrors.io(path, error);
  }

  emit(event: FsEvent): void {
    this.subscribers.emit(event);
  }

  /** Loads an entry's content once; ENOENT (and the entry dropped) when the driver no longer has it. */
  async ensureLoaded(entry: Entry): Promise<Entry & { content: Uint8Array }> {
    if (entry.content) return entry as Entry & { content: Uint8Array };
    return this.installLoaded(entry, await this.startLoad(entry));
  }

  /**
   * Starts loading an entry's content from its driver, or joins the load
   * already running, so concurrent first reads load once. The promise may be
   * awaited outside the mailbox; installLoaded (inside) keeps the result.
   */
  startLoad(entry: Entry): Promise<LoadedFile | null> {
    const running = this.loads.get(entry);
    if (running) return running;
    const location = this.configs.locate(entry.path);
    const path = entry.path;
    const load = (async (): Promise<LoadedFile | null> => {
      if (!location) return null;
      const { driver } = location.config;
      try {
        if (isVersioned(driver)) return await driver.read(location.driverPath);
        const content = await driver.load(location.driverPath);
        return content && { content };
      } catch (err) {
        throw new ScopeFsError('EIO', `loading ${JSON.stringify(path)} failed: ${errorMessage(err)}`, { path, cause: err });
      }
    })();
    this.loads.set(entry, load);
    // Kept until installed, so reads queued behind the install join it; a failed load may be retried.
    load.catch(() => this.loads.delete(entry));
    return load;
  }

  /**
   * Keeps loaded bytes unless the entry changed meanwhile: a write since the
   * load started has set newer content, which wins; a deleted entry is gone.
   */
  installLoaded(entry: Entry, loaded: LoadedFile | null): Entry & { content: Uint8Array } {
    this.loads.delete(entry);
    if (this.entries.get(entry.path) !== entry) throw fsErrors.notFound(entry.path);
    if (entry.content) return entry as Entry & { content: Uint8Array };
    if (!loaded) {
      this.entries.remove(entry.path);
      this.bases.set(entry.path, { version: null });
      throw fsErrors.notFound(entry.path);
    }
    setContent(entry, { bytes: loaded.content });
    // What was read is what memory now holds: the base a later outside edit is merged against.
    if (loaded.version !== undefined) this.bases.learn(entry.path, loaded.version, entry.checksum!, loaded.content);
    return entry as Entry & { content: Uint8Array };
  }

  /** Called after persistence progress and after each change: truncates or compacts the journal. */
  settleJournal(): void {
    const journal = this.journal;
    if (!journal) return;
    try {
      if (!this.persister.hasPending) {
        if (this.durability === 'journal') journal.truncate();
        else this.dropJournal(); // a recovery journal in a non-journal mode is done once everything is persisted
      } else if (journal.bytes >= this.compactAtBytes) {
        journal.rewrite(this.pendingOps());
        // Rewrite again only once the journal has doubled: amortised O(1) per append.
        this.compactAtBytes = Math.max(COMPACT_MIN_BYTES, journal.bytes * 2);
      }
    } catch {
      // Shrinking is an optimisation: a failed truncate or rewrite leaves a valid, longer journal
      // whose replay is idempotent. The next settle tries again.
    }
  }

  // ---- reads -------------------------------------------------------------

  /** A loaded entry, for answering a read without the mailbox. Keys of the table are normalised paths. */
  peekLoaded(path: string): (Entry & { content: Uint8Array }) | undefined {
    const entry = this.entries.get(path);
    return entry?.content ? (entry as Entry & { content: Uint8Array }) : undefined;
  }

  snapshot(): EntryMeta[] {
    return this.entries.under('/').map(toMeta);
  }

  stats(): FsStats {
    const stats: FsStats = {
      total: this.entries.size,
      memoryOnly: 0,
      persisted: 0,
      loaded: 0,
      notLoaded: 0,
      dirty: this.entries.dirtyCount,
      totalSize: 0,
      pendingTimers: this.scheduler.size,
      diskAlerts: this.replica.alerts,
    };
    for (const entry of this.entries.values()) {
      if (entry.memoryOnly) stats.memoryOnly++;
      else stats.persisted++;
      if (entry.content) stats.loaded++;
      else stats.notLoaded++;
      stats.totalSize += entry.size;
    }
    return stats;
  }

  // ---- configs -----------------------------------------------------------

  /**
   * Adds a config and indexes its files. Entries already in memory that the
   * new config now owns keep their content (memory wins) and are persisted
   * to it; their copies under the previous owner are left alone.
   */
  async registerPersistence(config: PersistenceConfig): Promise<void> {
    const before = new Map<string, Location | undefined>();
    for (const entry of this.entries.values()) before.set(entry.path, this.configs.locate(entry.path));
    // Content must be in memory before ownership changes, or it could not be found any more.
    const resolved = this.configs.add(config);
    const moved = [...this.entries.values()].filter((e) => this.configs.locate(e.path)?.config === resolved);
    try {
      for (const entry of moved) if (!entry.content) await this.loadFrom(entry, before.get(entry.path));
      // Bases belong to the previous owner; the new owner's files, if any, are indexed below.
      for (const entry of moved) this.bases.set(entry.path, { version: null });
      await indexConfig(this, resolved);
    } catch (err) {
      this.configs.remove(resolved);
      throw err;
    }
    for (const entry of moved) this.adopt(entry, resolved.readonly);
    this.journalAppend(moved.filter((e) => e.dirty).map(putOp), resolved.base);
    for (const entry of moved) void this.persister.persist(entry.path);
  }

  /** Loads an entry from an explicit location (its owner before a config change); drops it when gone. */
  private async loadFrom(entry: Entry, location: Location | undefined): Promise<void> {
    let bytes: Uint8Array | null = null;
    try {
      bytes = location ? await location.config.driver.load(location.driverPath) : null;
    } catch (err) {
      throw fsErrors.io(entry.path, err);
    }
    if (bytes) setContent(entry, { bytes });
    else this.entries.remove(entry.path);
  }

  private adopt(entry: Entry, readonly: boolean): void {
    if (!this.entries.has(entry.path)) return;
    entry.memoryOnly = false;
    entry.revision = this.nextRevision();
    this.entries.setDirty(entry, !readonly);
  }

  // ---- journal -----------------------------------------------------------

  private async recoverJournal(): Promise<void> {
    const path = this.options.journalPath;
    if (!path) return;
    const decoded = Journal.read(path);
    for (const record of decoded.records) replayOps(this, record);
    await rebaseReplayed(this, decoded.records);
    // A journal left by a journal-mode run is honoured in every mode until it is fully persisted.
    if (this.durability === 'journal' || decoded.records.length > 0) {
      this.journal = Journal.create(path, this.pendingOps(), { fsyncEachRecord: this.options.fsyncJournal });
    }
    void this.persister.flush(); // every replayed write and delete, conditional on the bases just settled
  }

  /** What a fresh journal must hold, each change with the disk version it was made against. */
  private pendingOps(): JournalOp[] {
    return this.withDiskBases(this.persister.pendingOps());
  }

  /** Stamps ops made for this append (in place: a copy costs more than the append) with their disk version. */
  private withDiskBases(ops: JournalOp[]): JournalOp[] {
    for (const op of ops) {
      const location = this.configs.locate(op.path);
      if (location && isVersioned(location.config.driver)) op.diskBase = this.bases.get(op.path).version;
    }
    return ops;
  }

  private closeJournal(): void {
    const journal = this.journal;
    if (!journal) return;
    if (this.persister.hasPending) journal.rewrite(this.pendingOps());
    else if (this.durability !== 'journal') return this.dropJournal();
    else journal.truncate();
    journal.close();
    this.journal = undefined;
  }

  private dropJournal(): void {
    this.journal?.remove();
    this.journal = undefined;
  }
}
