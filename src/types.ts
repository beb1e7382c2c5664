import type { ChildInfo } from '../supervisors/runtime/child.js';
import type { PersistenceDriver } from '../persistence/drivers/types.js';
import type { CheckpointInfo, HistoryVersion } from '../persistence/history/types.js';

/** File content: text (stored as UTF-8) or bytes (stored exactly). */
export type Content = string | Uint8Array;

/** Who caused a change, so listeners can ignore their own echo. */
export type Origin = 'local' | 'disk' | 'sync' | 'replay';

/** Metadata of one file; never includes content. */
export interface EntryMeta {
  path: string;
  size: number;
  createdAt: number;
  modifiedAt: number;
  mimeType: string;
  /**
   * sha256 of the content, lowercase hex. Undefined for a not-yet-loaded
   * persisted file, and for tens of milliseconds after a write of 4 MiB or
   * more (hashed after its acknowledgement; a read of the content has it).
   */
  checksum: string | undefined;
  /** Increases with every change of this path within this process's lifetime. */
  revision: number;
  /** Whether the content is in memory. */
  loaded: boolean;
  /** Whether memory differs from what the persistence driver holds. */
  dirty: boolean;
  /** True when no persistence config covers this path. */
  memoryOnly: boolean;
}

/**
 * Who made a change, beside its origin: a token name, an agent id, an MCP
 * session. Carried from the call's options into its event (and into the
 * history and the audit log); absent when the caller did not say.
 */
export interface ChangeAuthor {
  source?: string;
  actor?: string;
  /**
   * The batch the change was part of (applyBatch with two or more items, a
   * transaction's commit, a checkpoint restore): its changes were applied in
   * one step, and sync pushes them as one all-or-none batch.
   */
  batch?: string;
}

export type FsEvent =
  | ({ type: 'file_updated'; path: string; meta: EntryMeta; created: boolean; origin: Origin } & ChangeAuthor)
  | ({ type: 'file_deleted'; path: string; revision: number; origin: Origin } & ChangeAuthor)
  | ({ type: 'file_moved'; from: string; to: string; meta: EntryMeta; origin: Origin } & ChangeAuthor)
  | { type: 'snapshot'; entries: EntryMeta[] }
  /** An outside edit on disk could not be merged with memory: it is kept as `copyPath`, memory stays at `path`. */
  | { type: 'disk_conflict'; path: string; copyPath: string; reason: string; origin: 'disk' }
  /** Something on disk needs a person or an agent (see DiskAlert); nothing was lost or overwritten. */
  | { type: 'disk_alert'; alert: DiskAlert; path: string; message: string; origin: 'disk' };

/**
 * - `refused`: the disk holds what can never be a file there (a link, a directory), or refused a write for good.
 * - `unreadable`: reading the file failed (permissions, I/O); it is tried again at its next event.
 * - `collision`: two names on disk mean one virtual path (NFC and NFD forms); neither replaces the other.
 * - `journal_recreated`: the journal was removed or replaced while running, and was written again.
 */
export type DiskAlert = 'refused' | 'unreadable' | 'collision' | 'journal_recreated';

export interface DiskAlertRecord {
  alert: DiskAlert;
  path: string;
  message: string;
  /** ISO 8601. */
  at: string;
}

export type FsListener = (event: FsEvent) => void | Promise<void>;

/** `journal`: acknowledged = in the write-ahead journal. `debounced`: memory until the timer fires. `immediate`: write-through. */
export type Durability = 'journal' | 'debounced' | 'immediate';

export interface PersistenceConfig {
  /** Base directory this config covers, e.g. `/docs`. Ignored for the default config. */
  base: string;
  driver: PersistenceDriver;
  /** Debounce window for updates (a new file is persisted at once). */
  debounceMs?: number;
  readonly?: boolean;
  /** Catches paths under no other config. */
  default?: boolean;
  /** Default 64 MiB. */
  maxFileBytes?: number;
}

/** What getPersistenceConfigs returns: the config without the driver object. */
export interface PersistenceConfigInfo {
  base: string;
  driver: string;
  debounceMs: number;
  readonly: boolean;
  default: boolean;
  maxFileBytes: number;
}

export interface WriteOptions {
  mimeType?: string;
  /** Compare-and-swap: fail with ESTALE unless the file is at this revision (0 = must not exist). */
  ifRevision?: number;
  /** Set by the sync engine and the disk watcher; callers leave it at `local`. */
  origin?: Origin;
  /** Free-form source id carried into the event (e.g. the remote instance id). */
  source?: string;
  /** Who asks (a token name, an agent id): carried into the event, the history and the audit log. */
  actor?: string;
  /** The token of a lock held on the path (docs/coordination.md#locks): without it a locked path refuses the change (ELOCKED). */
  lockToken?: string;
}

export interface ChangeOptions {
  origin?: Origin;
  source?: string;
  actor?: string;
  ifRevision?: number;
  /** The token of a lock held on the path(s) changed; see WriteOptions.lockToken. */
  lockToken?: string;
}

export interface ReadOptions {
  /** `utf8` (default) returns a string; `bytes` returns the exact bytes. */
  encoding?: 'utf8' | 'bytes';
  /** Read an older version: a history revision from `history(path)` (ENOENT naming it when unknown). */
  revision?: number;
}

/** What readEntry answers: the metadata and the content of one and the same version. */
export interface FileEntry<C extends Content = Content> {
  meta: EntryMeta;
  content: C;
}

export type { CheckpointInfo, HistoryVersion };

export interface HistoryQuery {
  /** At most this many versions, newest first (default 100). */
  limit?: number;
}

export interface RestoreOptions {
  /** Compare-and-swap on the current file: ESTALE unless it is at this revision (0 = must not exist). */
  ifRevision?: number;
  actor?: string;
}

export interface CheckpointOptions {
  message?: string;
  /** Only files under this prefix (default the whole scope). */
  prefix?: string;
  /**
   * Flush pending writes to persistence first (default true), so the checkpoint matches the files on disk.
   * The manifest is taken from memory either way; a transaction's commit records its checkpoint without one.
   */
  flush?: boolean;
}

export interface RestoreCheckpointOptions {
  /** Only files under this prefix (it must lie within the checkpoint's prefix). */
  prefix?: string;
  /** Plan only: report what would change, change nothing. */
  dryRun?: boolean;
  actor?: string;
}

/** What restoring a checkpoint changed (or, with dryRun, would change), paths ascending. */
export interface CheckpointRestore {
  checkpoint: string;
  dryRun: boolean;
  /** Files written back (their content differed). */
  written: string[];
  /** Files created again (absent now). */
  created: string[];
  /** Files deleted (not in the checkpoint). */
  deleted: string[];
  /** Files already as in the checkpoint. */
  unchanged: number;
}

/** How two manifests differ (`b` absent: the current files), paths ascending. */
export interface CheckpointDiff {
  from: string;
  to: string;
  added: string[];
  removed: string[];
  changed: string[];
}

/** History, restore and checkpoints of a scope (docs/history.md). */
export interface FileHistoryApi {
  /** The versions of a path, newest first (deleted ones too). */
  history(path: string, query?: HistoryQuery): Promise<HistoryVersion[]>;
  /** Writes the content of `revision` as a new version (undeletes a deleted path); an ordinary change. */
  restore(path: string, revision: number, options?: RestoreOptions): Promise<EntryMeta>;
  /** Paths under `prefix` whose latest version is a deletion, with that version, newest first. */
  listDeleted(prefix?: string): Promise<HistoryVersion[]>;
  /** Flushes, then records a named manifest of every file (under `prefix`). Name default: `checkpoint-<ISO time>`. */
  checkpoint(name?: string, options?: CheckpointOptions): Promise<CheckpointInfo>;
  listCheckpoints(): Promise<CheckpointInfo[]>;
  /** Brings the files back to the checkpoint's manifest as ordinary changes; returns what changed. */
  restoreCheckpoint(name: string, options?: RestoreCheckpointOptions): Promise<CheckpointRestore>;
  /** Deletes a checkpoint (ENOENT naming it when unknown); retention may then prune the versions only it kept. */
  deleteCheckpoint(name: string): Promise<void>;
  /** What differs between checkpoint `a` and checkpoint `b` (or the current files). */
  diffCheckpoint(a: string, b?: string): Promise<CheckpointDiff>;
}

export interface FsStats {
  total: number;
  memoryOnly: number;
  persisted: number;
  loaded: number;
  notLoaded: number;
  dirty: number;
  totalSize: number;
  pendingTimers: number;
  /** The most recent problems with the disk (at most 20, oldest first), including any found while indexing. */
  diskAlerts: DiskAlertRecord[];
}

export interface FlushResult {
  flushed: string[];
  failed: Array<{ path: string; error: string }>;
}

/** One item of a batch (FileSystem.applyBatch): a write, or a delete. */
export type BatchItem =
  | { path: string; content: Content; mimeType?: string; ifRevision?: number }
  | { path: string; delete: true; ifRevision?: number };

/** A file as a transaction starts from it: its metadata and, when it is in memory, the content of that version. */
export interface SnapshotVersion {
  meta: EntryMeta;
  content?: Uint8Array;
}

export interface BatchResult {
  /** The metadata of every file written, in the order given. */
  written: EntryMeta[];
  deleted: string[];
}

export interface MoveResult {
  /** [from, to] pairs actually moved. */
  moved: Array<[string, string]>;
}

/**
 * The public API of a scope's FileSystemServer. Every method goes through the
 * actor's mailbox, so calls are applied one at a time in the order made.
 */
export interface FileSystem extends FileHistoryApi {
  /** The metadata and content of one version, in one call (no stat/read race). */
  readEntry(path: string, options?: { encoding?: 'utf8' }): Promise<FileEntry<string>>;
  readEntry(path: string, options: { encoding: 'bytes' }): Promise<FileEntry<Uint8Array>>;
  readEntry(path: string, options?: ReadOptions): Promise<FileEntry>;
  writeFile(path: string, content: Content, options?: WriteOptions): Promise<EntryMeta>;
  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<string>;
  readFile(path: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  readFile(path: string, options?: ReadOptions): Promise<Content>;
  deleteFile(path: string, options?: ChangeOptions): Promise<void>;
  fileExists(path: string): Promise<boolean>;
  /**
   * Writes and deletes several files as one change: every item is checked first (ifRevision, locks, sizes,
   * placement), then all are applied in one step and journaled as one record, so readers, other instances and
   * a crash see all of them or none. Each path at most once; at most 10,000 items.
   */
  applyBatch(items: readonly BatchItem[], options?: ChangeOptions): Promise<BatchResult>;
  /** Moves a file, or every file under a prefix when `from` names a directory. */
  moveFile(from: string, to: string, options?: ChangeOptions): Promise<MoveResult>;
  listFiles(prefix?: string): Promise<string[]>;
  listEntries(prefix?: string): Promise<EntryMeta[]>;
  stat(path: string): Promise<EntryMeta>;
  stats(): Promise<FsStats>;
  flushAll(): Promise<FlushResult>;
  /**
   * Back to the persisted state (Sagents semantics): memory-only files removed, unpersisted changes and
   * pending timers discarded, persistence re-indexed. What it discards stays in history (docs/history.md).
   * Call flushAll() first to keep pending changes.
   */
  reset(): Promise<void>;
  /** Adds entries known to exist in persistence without loading them (lazy). */
  registerFiles(files: Array<{ path: string; size?: number; modifiedAt?: number; mimeType?: string }>): Promise<void>;
  registerPersistence(config: PersistenceConfig): Promise<void>;
  getPersistenceConfigs(): Promise<PersistenceConfigInfo[]>;
  editFile(path: string, oldStr: string, newStr: string, options?: ChangeOptions): Promise<EntryMeta>;
  appendFile(path: string, content: Content, options?: ChangeOptions): Promise<EntryMeta>;
  /** Returns an unsubscribe function. With `snapshot`, the listener first gets the current entries. */
  subscribe(listener: FsListener, options?: { snapshot?: boolean }): () => void;
  /** Reconciles a path with what the disk holds now (after a disk event); resolves once applied. */
  checkDisk(path: string): Promise<void>;
}

/** A scope key: a string, a number, or a tuple of them (`['user', 123]`). */
export type ScopeKey = string | number | ReadonlyArray<string | number>;

export type { ChildInfo };

/** What startScope returns. */
export interface ScopeHandle {
  readonly scopeKey: ScopeKey;
  /** Canonical string form of the key. */
  readonly key: string;
  readonly root: string | undefined;
  readonly fs: FileSystem;
  /** Present when the scope was started with `sync`. */
  readonly sync: import('./sync/types.js').SyncHandle | undefined;
  /** The scope's supervision tree. */
  tree(): ChildInfo[];
  /** Stops agents, then sync, then the filesystem (which flushes). */
  stop(): Promise<void>;
  /** The scope's locks (docs/coordination.md#locks); its `fs` enforces them. */
  readonly locks?: import('./coordination/locks.js').FileLocks;
  /** The audit log, newest first (docs/coordination.md#audit-log); absent when auditing is off. */
  audit?(query?: import('./audit/types.js').AuditQuery): Promise<import('./audit/types.js').AuditEntry[]>;
  /** Records tailed from JSONL files (docs/tail.md): `records.since(cursor)`, search, subscribe. */
  readonly records?: import('./tail/scope-tail.js').ScopeRecords;
  /** The tail's status and on-demand backfill (docs/tail.md). */
  readonly tail?: import('./tail/scope-tail.js').ScopeTailHandle;
  /** Webhook subscriptions, their deliveries and dead letters (docs/webhooks.md); absent when webhooks are off. */
  readonly webhooks?: import('./webhooks/scope-webhooks.js').ScopeWebhooks;
  /**
   * Runs `fn` as a transaction (docs/transactions.md): its fs sees the scope as of the start plus its own
   * writes; a return commits them as one step (merged three ways with what changed meanwhile), a throw or
   * the signal discards them.
   */
  transaction?<T>(
    fn: (fs: FileSystem) => T | Promise<T>,
    options?: import('./transactions/types.js').TransactionOptions,
  ): Promise<import('./transactions/types.js').TransactionResult & { value: T }>;
  /** Open transactions, begin/commit/abort by id, and their events (docs/transactions.md). */
  readonly transactions?: import('./transactions/transactions.js').Transactions;
}
