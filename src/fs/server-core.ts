/**
 * The FileSystemServer's state: the file table and the services around it
 * (configs, disk bases, persistence, journal, subscribers, the disk
 * replica), all private. Handlers reach it through narrow methods: the
 * FsView a plan reads and `apply` for the change it makes (change.ts), and
 * one method per query or cast.
 *
 * Everything here runs inside the actor (one handler at a time), except
 * `peekLoaded`, `snapshot` and `subscribe`, which only read or add a
 * listener, and the persister's completion bookkeeping (see persister.ts).
 * What comes back from outside the mailbox (a persist timer, finished driver
 * I/O, a finished disk read) comes back as a cast to the server's mailbox.
 */
import { isVersioned } from '../../persistence/drivers/types.js';
import { ScopeFsError, fsErrors } from '../errors.js';
import { LockTable } from '../coordination/locks.js';
import type { ChangeOptions, Durability, EntryMeta, FlushResult, FsListener, FsStats, PersistenceConfig, PersistenceConfigInfo } from '../types.js';
import { applyChange, type Change, type ChangeAudit, type ChangeTarget, type FsCore } from './change.js';
import { ConfigTable, type Location } from './configs.js';
import { DiskBases } from './disk-bases.js';
import { DiskReplica, rebaseReplayed } from './disk-replica.js';
import { EntryTable, toMeta, type Entry } from './entries.js';
import { Subscribers } from './events.js';
import { indexConfig, replayOps, type KnownFile, type ReplayDeps } from './indexer.js';
import { noteReplayed, noteReset } from './history-notes.js';
import type { HistoryRecorder } from './history-recorder.js';
import { JournalKeeper } from './journal-keeper.js';
import type { SideFiles } from './side-files.js';
import { Loads, type LoadedEntry, type LoadedFile } from './loads.js';
import type { CastPort } from './messages.js';
import { Persister } from './persister.js';
import { PersistScheduler, type RetryOptions } from './persist-scheduler.js';
import { registerFiles, registerPersistence, type RegistrationDeps } from './registration.js';

export interface CoreOptions {
  configs: PersistenceConfig[];
  durability: Durability;
  journalPath: string | undefined;
  fsyncJournal: boolean;
  debounceMs: number;
  maxFileBytes: number;
  retry: RetryOptions;
  /** The server's own mailbox. */
  cast: CastPort;
  /** Records every applied version (history-recorder.ts). */
  history?: HistoryRecorder;
  /** Records who changed what (audit-recorder.ts); the journal records carry its entries. */
  audit?: ChangeAudit;
  /** The scope's lock table; one that outlives this server keeps its locks across a restart. */
  locks?: LockTable;
}

/** How often a flush reconciles paths whose disk changed under it and flushes again. */
const FLUSH_RECONCILE_ROUNDS = 3;

export class ServerCore implements FsCore {
  readonly durability: Durability;
  private readonly entries = new EntryTable();
  /** What scopefs last wrote or read on disk, per path. */
  private readonly bases = new DiskBases();
  private readonly configs: ConfigTable;
  private readonly subscribers = new Subscribers();
  private readonly scheduler: PersistScheduler;
  private readonly persister: Persister;
  private readonly journal: JournalKeeper;
  private readonly loads: Loads;
  /** Reconciles what other programs do to the disk with memory. */
  private readonly replica: DiskReplica;
  /** What a change is applied to. */
  private readonly target: ChangeTarget;
  /** What indexing and journal replay build the table with. */
  private readonly indexing: ReplayDeps;
  /** What adding files and configs at run time works on. */
  private readonly registration: RegistrationDeps;
  private readonly journalPath: string | undefined;
  private readonly cast: CastPort;
  /** A `persist_settled` cast is in the mailbox: more finished I/O needs no second one. */
  private settleQueued = false;
  private clock = 0;
  private readonly history: HistoryRecorder | undefined;
  private readonly audit: ChangeAudit | undefined;
  /** The scope's locks (src/coordination/locks.ts); every planned local change is checked against them. */
  readonly locks: LockTable;

  /** Where large writes put their content before the journal references it; journal mode only. */
  get sideFiles(): SideFiles | undefined {
    return this.durability === 'journal' ? this.journal.sideFiles : undefined;
  }

  constructor(options: CoreOptions) {
    const { entries, bases, subscribers } = this;
    this.cast = options.cast;
    this.journalPath = options.journalPath;
    // Without a journal file there is nowhere to journal to: journal mode degrades to debounced.
    this.durability = options.durability === 'journal' && !options.journalPath ? 'debounced' : options.durability;
    const configs = new ConfigTable({ debounceMs: options.debounceMs, maxFileBytes: options.maxFileBytes });
    for (const config of options.configs) configs.add(config);
    this.configs = configs;
    const scheduler = new PersistScheduler((key) => this.cast({ type: 'persist_due', key }), options.retry);
    this.scheduler = scheduler;
    const persister = new Persister({
      entries,
      configs,
      scheduler,
      bases,
      onSettled: () => this.queueSettle(),
      // Safe between handlers: a check only queues a read; its outcome is applied in the mailbox.
      // Not a cast: a flush waiting for its writes must see the check under way (see flush).
      onDiverged: (path) => void this.replica.check(path),
      onRefused: (path, reason) => this.replica.alert(path, 'refused', reason),
    });
    this.persister = persister;
    const journal = new JournalKeeper({
      path: options.journalPath,
      durability: this.durability,
      fsyncEachRecord: options.fsyncJournal,
      configs,
      bases,
      persister,
      onRecreated: (path) => this.journalRecreated(path),
      audit: options.audit,
    });
    this.journal = journal;
    this.loads = new Loads(entries, configs, bases);
    this.replica = new DiskReplica({ core: this, bases, persister, emit: (event) => subscribers.emit(event), cast: this.cast });
    const nextRevision = (): number => this.nextRevision();
    this.history = options.history;
    this.locks = options.locks ?? new LockTable();
    this.audit = options.audit;
    this.target = { journal, entries, persister, scheduler, subscribers, nextRevision, history: options.history, audit: options.audit };
    this.indexing = {
      entries,
      configs,
      bases,
      persister,
      scheduler,
      nextRevision,
      // Indexing left a file out because of its name: reported, never served under another one.
      onSkipped: (name, reason, collides) => this.replica.skipped(name, reason, collides),
    };
    this.registration = { indexing: this.indexing, journal };
  }

  // ---- lifecycle -------------------------------------------------------

  /** Indexes every config, replays the journal, and starts persisting what the journal held. */
  async init(): Promise<void> {
    for (const config of this.configs.all()) await indexConfig(this.indexing, config);
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
      this.journal.close();
    }
  }

  /**
   * Back to the persisted state (Sagents semantics): memory-only files are
   * removed, unpersisted changes (dirty entries, pending deletes, what only
   * the journal holds) and pending timers are discarded, and the table is
   * re-indexed from persistence. Driver I/O already under way finishes first.
   * Every discarded version was recorded in history when it was made; the
   * state the reset returns to is recorded too, so a reset can be undone by
   * restoring the discarded versions.
   */
  async reset(): Promise<void> {
    const discarded = this.unpersistedPaths();
    await this.persister.drain();
    this.scheduler.clear();
    this.persister.clear();
    this.entries.clear();
    this.bases.clear();
    for (const config of this.configs.all()) await indexConfig(this.indexing, config);
    this.journal.settle();
    if (this.history) await noteReset(this.history, discarded, (path) => this.loadedForHistory(path));
  }

  /** Paths whose memory differs from persistence: dirty or memory-only entries, pending deletes. */
  private unpersistedPaths(): string[] {
    const paths = new Set(this.persister.pendingOps().map((op) => op.path));
    for (const path of this.entries.dirty()) paths.add(path);
    for (const entry of this.entries.values()) if (entry.memoryOnly) paths.add(entry.path);
    return [...paths];
  }

  /** The persisted content of `path` after a reset, or null when it has none. */
  private async loadedForHistory(path: string): Promise<LoadedEntry | null> {
    const entry = this.entries.get(path);
    if (!entry) return null;
    try {
      return await this.loads.ensure(entry);
    } catch {
      return null;
    }
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
    this.journal.settle();
    return result;
  }

  // ---- casts -------------------------------------------------------------

  /** `persist_due`: a persist timer fired. */
  persistDue(key: string): void {
    this.persister.due(key);
  }

  /** `persist_settled`: driver I/O finished, so the journal may shrink. */
  persistSettled(): void {
    this.settleQueued = false;
    this.journal.settle();
  }

  /** `disk_read`: a disk check's read finished; applies what it found. */
  diskRead(path: string, ticket: number): Promise<void> | undefined {
    return this.replica.readDone(path, ticket);
  }

  private nextRevision(): number {
    return ++this.clock;
  }

  private queueSettle(): void {
    if (this.settleQueued) return;
    this.settleQueued = true;
    this.cast({ type: 'persist_settled' });
  }

  // ---- what plans read (FsView) -------------------------------------------

  entry(path: string): Entry | undefined {
    return this.entries.get(path);
  }

  under(prefix: string): Entry[] {
    return this.entries.under(prefix);
  }

  locate(path: string): Location | undefined {
    return this.configs.locate(path);
  }

  writableLocation(path: string): Location | undefined {
    const location = this.configs.locate(path);
    if (location?.config.readonly) throw fsErrors.readonly(path, location.config.base);
    return location;
  }

  assertPersistable(location: Location | undefined): void {
    const driver = location?.config.driver;
    if (driver && isVersioned(driver)) driver.assertPersistable(location.driverPath);
  }

  assertSize(path: string, bytes: number): void {
    const limit = this.configs.maxFileBytes(path);
    if (bytes > limit) throw fsErrors.tooBig(path, bytes, limit);
  }

  assertRevision(path: string, entry: Entry | undefined, expected: number | undefined): void {
    if (expected === undefined) return;
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw fsErrors.invalid(`ifRevision must be a non-negative integer, got ${String(expected)}`, path);
    }
    const actual = entry?.revision ?? 0;
    if (actual !== expected) throw fsErrors.stale(path, expected, actual);
  }

  assertPlaceable(path: string): void {
    this.entries.assertPlaceable(path);
  }

  assertUnlocked(path: string, options: ChangeOptions): void {
    // Sync, the disk and journal replay bring changes already made elsewhere (under that side's lock): never refused.
    if (options.origin !== undefined && options.origin !== 'local') return;
    this.locks.assertWritable(path, options.lockToken);
  }

  hasTimer(path: string): boolean {
    return this.scheduler.has(path);
  }

  // ---- changes -----------------------------------------------------------

  /** Journals, updates entries, schedules persistence and emits events (change.ts). */
  apply(change: Change): Promise<void> | undefined {
    return applyChange(this.target, change);
  }

  // ---- loads -------------------------------------------------------------

  /** Loads an entry's content once; ENOENT (and the entry dropped) when the driver no longer has it. */
  ensureLoaded(entry: Entry): Promise<LoadedEntry> {
    return this.loads.ensure(entry);
  }

  /** Starts (or joins) a lazy load, which may be awaited outside the mailbox. */
  startLoad(entry: Entry): Promise<LoadedFile | null> {
    return this.loads.start(entry);
  }

  /** Keeps what a lazy load brought, unless the entry changed meanwhile. */
  installLoaded(entry: Entry, loaded: LoadedFile | null): LoadedEntry {
    return this.loads.install(entry, loaded);
  }

  // ---- reads -------------------------------------------------------------

  /** A loaded entry, for answering a read without the mailbox. Keys of the table are normalised paths. */
  peekLoaded(path: string): LoadedEntry | undefined {
    const entry = this.entries.get(path);
    return entry?.content ? (entry as LoadedEntry) : undefined;
  }

  snapshot(): EntryMeta[] {
    return this.entries.under('/').map(toMeta);
  }

  /** The snapshot (when asked for) reflects every change already applied; later changes arrive as events. */
  subscribe(listener: FsListener, snapshot: boolean): () => void {
    return this.subscribers.add(listener, snapshot ? this.snapshot() : undefined);
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

  // ---- disk --------------------------------------------------------------

  /** Reconciles the file named `name` on disk with memory; resolves once the outcome is applied. */
  checkDisk(name: string): Promise<void> {
    return this.replica.checkName(name);
  }

  /** The version scopefs last wrote or read at `name` on disk (its disk base), if any: what the watcher drops echoes by. */
  ownDiskVersion(name: string): string | undefined {
    return this.bases.get(name).version ?? undefined;
  }

  // ---- configs -----------------------------------------------------------

  configInfo(): PersistenceConfigInfo[] {
    return this.configs.info();
  }

  /** Adds lazily loaded entries for files a driver holds; files already known are left alone. */
  registerFiles(files: Array<{ path: string } & KnownFile>): void {
    registerFiles(this.registration, files);
  }

  /** Adds a config and indexes its files; entries it now owns are persisted to it (registration.ts). */
  registerPersistence(config: PersistenceConfig): Promise<void> {
    return registerPersistence(this.registration, config);
  }

  // ---- journal -----------------------------------------------------------

  private async recoverJournal(): Promise<void> {
    if (!this.journalPath) return;
    const records = this.journal.readRecords();
    for (const record of records) replayOps(this.indexing, record);
    if (this.history) noteReplayed(this.history, records);
    // Before the journal is written afresh: the records are the only place these entries may be.
    this.audit?.recover(records.flatMap((ops) => ops.flatMap((op) => op.audit ?? [])));
    await rebaseReplayed(this.configs, this.bases, records);
    this.journal.open(records.length > 0);
    void this.persister.flush(); // every replayed write and delete, conditional on the bases just settled
  }

  private journalRecreated(path: string): void {
    this.replica.alert(
      '/',
      'journal_recreated',
      `the journal ${JSON.stringify(path)} was removed or replaced while running; it was written again with the ${this.entries.dirtyCount} change(s) not yet on disk`,
    );
  }
}
