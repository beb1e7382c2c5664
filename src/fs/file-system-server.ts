/**
 * The per-scope FileSystemServer, in the shape of an OTP gen_server: the
 * Actor (supervisors/runtime) owns the mailbox and the loop; this module
 * holds the client API (the public methods) and, beside it, `handleCall` and
 * `handleCast`, which take the data messages of messages.ts one at a time,
 * in order. The state is a ServerCore.
 *
 * The one shortcut: a read of a loaded file while the mailbox is idle is
 * answered at once, which is exactly what handling it as the next message
 * would return. It keeps to the runtime's turn budget like the mailbox does,
 * so a caller reading in a tight loop cannot starve the event loop.
 */
import { Actor, type ExitReason, type Process, type ProcessStatus } from '../../supervisors/runtime/actor.js';
import { nextTurn, overBudget } from '../../supervisors/runtime/turn-budget.js';
import { fsErrors } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import type {
  BatchItem,
  BatchResult,
  ChangeOptions,
  CheckpointDiff,
  CheckpointInfo,
  CheckpointOptions,
  CheckpointRestore,
  Content,
  FileEntry,
  HistoryQuery,
  HistoryVersion,
  RestoreCheckpointOptions,
  RestoreOptions,
  Durability,
  EntryMeta,
  FileSystem,
  FlushResult,
  FsListener,
  FsStats,
  MoveResult,
  PersistenceConfig,
  PersistenceConfigInfo,
  ReadOptions,
  SnapshotVersion,
  WriteOptions,
} from '../types.js';
import type { ChangeAudit } from './change.js';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_FILE_BYTES, nonNegative } from './configs.js';
import { loadedMeta, textOf, toMeta, type Entry } from './entries.js';
import type { LoadedEntry, LoadedFile } from './loads.js';
import type { FsCall, FsCast, FsMessage } from './messages.js';
import { ScopeHistory } from './history-api.js';
import { HistoryRecorder, type HistoryTarget } from './history-recorder.js';
import { moveFile } from './moves.js';
import { appendFile, deleteFile, editFile, writeFile } from './mutations.js';
import { CallOrder, isLargeContent, ownLargeContent, type OwnedContent } from './large-content.js';
import { applyBatch } from './batch.js';
import type { RetryOptions } from './persist-scheduler.js';
import { ServerCore } from './server-core.js';
import { LockTable, withLock, type FileLocks, type LockGrant, type LockInfo, type LockOptions } from '../coordination/locks.js';

export interface FileSystemServerOptions {
  /** Actor name, e.g. `fs:user/123`. */
  name?: string;
  /** Persistence configs; none means memory-only. */
  configs?: PersistenceConfig[];
  /** `journal` (default), `debounced` or `immediate`. */
  durability?: Durability;
  /** The write-ahead journal file. Journal durability without one behaves as `debounced`. */
  journalPath?: string;
  /** fsync the journal after every record (survives power loss, not just a killed process). Default false. */
  fsyncJournal?: boolean;
  /** Debounce for configs without their own (default 500 ms). */
  debounceMs?: number;
  /** Size limit for configs without their own, and for memory-only files (default 64 MiB). */
  maxFileBytes?: number;
  /** Backoff of persist retries after a failure. */
  retry?: RetryOptions;
  /** Timeout of ordinary calls (default 5 s); flushes and re-indexing get at least two minutes. */
  callTimeoutMs?: number;
  /** Called with every message as the server takes it from its mailbox (for logging and tracing). */
  trace?: (message: FsMessage) => void;
  /** Record every applied change in this history (docs/history.md); without it the history methods fail (EINVAL). */
  history?: HistoryTarget;
  /** The lock table (src/coordination/locks.ts); a scope passes its own so locks survive a restart of this server. */
  locks?: LockTable;
  /** Record who changed what here (an AuditRecorder; docs/coordination.md#audit-log): the journal records carry its entries. */
  audit?: ChangeAudit;
}

const DEFAULT_CALL_TIMEOUT_MS = 5_000;
const SLOW_CALL_TIMEOUT_MS = 120_000;
/** A burst of fast-path reads runs at most this many reads past its budget. */
export const READS_PER_BUDGET_CHECK = 32;

export class FileSystemServer implements FileSystem, FileLocks, Process {
  private readonly core: ServerCore;
  private readonly actor: Actor<FsCall, FsCast>;
  /** Call order across large writes prepared before the mailbox (large-content.ts). */
  private readonly order = new CallOrder();
  private readonly slowCallTimeoutMs: number;
  private readonly trace: ((message: FsMessage) => void) | undefined;
  /** Fast-path reads since the turn budget was last checked. */
  private readsSinceCheck = 0;
  /** Set while fast-path reads wait for the event loop's turn. */
  private turnWait: Promise<void> | undefined;
  private readonly recorder: HistoryRecorder | undefined;
  private readonly scopeHistory: ScopeHistory | undefined;

  private constructor(options: FileSystemServerOptions) {
    this.recorder = options.history ? new HistoryRecorder(options.history) : undefined;
    this.scopeHistory = this.recorder ? new ScopeHistory(this, this.recorder) : undefined;
    const callTimeoutMs = nonNegative(options.callTimeoutMs, DEFAULT_CALL_TIMEOUT_MS, 'callTimeoutMs');
    this.slowCallTimeoutMs = Math.max(callTimeoutMs, SLOW_CALL_TIMEOUT_MS);
    this.trace = options.trace;
    this.core = new ServerCore({
      configs: options.configs ?? [],
      durability: durabilityOf(options.durability),
      journalPath: options.journalPath,
      fsyncJournal: options.fsyncJournal ?? false,
      debounceMs: nonNegative(options.debounceMs, DEFAULT_DEBOUNCE_MS, 'debounceMs'),
      maxFileBytes: nonNegative(options.maxFileBytes, DEFAULT_MAX_FILE_BYTES, 'maxFileBytes'),
      retry: options.retry ?? {},
      cast: (message) => this.actor.cast(message),
      history: this.recorder,
      locks: options.locks,
      audit: options.audit,
    });
    this.actor = new Actor<FsCall, FsCast>(
      {
        init: () => this.core.init(),
        handleCall: (message) => this.handleCall(message),
        handleCast: (message) => this.handleCast(message),
        terminate: () => this.terminate(),
      },
      { name: options.name ?? 'fs', callTimeoutMs },
    );
  }

  /** Indexes persistence (metadata only), replays the journal, and starts the actor. */
  static async start(options: FileSystemServerOptions = {}): Promise<FileSystemServer> {
    const server = new FileSystemServer(options);
    await server.actor.start();
    return server;
  }

  // ---- Process -----------------------------------------------------------

  get name(): string {
    return this.actor.name;
  }

  get status(): ProcessStatus {
    return this.actor.status;
  }

  /** Flushes every pending write and closes the journal, then stops. */
  stop(reason?: ExitReason, timeoutMs?: number): Promise<void> {
    return this.actor.stop(reason, timeoutMs);
  }

  exit(reason: ExitReason): void {
    this.actor.exit(reason);
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.actor.onExit(listener);
  }

  // ---- client API (FileSystem) --------------------------------------------

  writeFile(path: string, content: Content, options?: WriteOptions): Promise<EntryMeta> {
    // A large byte array is copied and hashed in chunks first, not in one long actor step.
    if (isLargeContent(content)) {
      const enqueue = (owned: OwnedContent): Promise<EntryMeta> =>
        this.call<EntryMeta>({ type: 'write', path, content: owned, options }, undefined, true).finally(() => owned.release());
      const owned = ownLargeContent(content, this.core.sideFiles).catch((err: unknown) => {
        throw fsErrors.io(path, err); // the side file could not be written (ENOSPC, EACCES): nothing was changed
      });
      return this.order.prepared(owned, enqueue);
    }
    return this.call({ type: 'write', path, content, options });
  }

  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<string>;
  readFile(path: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  readFile(path: string, options?: ReadOptions): Promise<Content>;
  readFile(path: string, options?: ReadOptions): Promise<Content> {
    let bytes: boolean;
    try {
      bytes = encodingOf(options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (options?.revision !== undefined) return this.readRevision(path, options.revision, bytes);
    if (this.actor.idle && this.actor.status === 'running') {
      // Table keys are normalised paths, so a hit needs no validation.
      const loaded = this.core.peekLoaded(path);
      if (loaded) return this.answerInTurn(contentAs(loaded, bytes));
    }
    return this.call<ReadAnswer>({ type: 'read', path, bytes }).then((answer): Content | Promise<Content> => {
      if ('content' in answer) return answer.content;
      // A lazy load runs outside the mailbox, so other calls (and other loads) go on meanwhile.
      return answer.loading.then((loaded) => this.call({ type: 'install_loaded', entry: answer.entry, loaded, bytes }));
    });
  }

  readEntry(path: string, options?: { encoding?: 'utf8' }): Promise<FileEntry<string>>;
  readEntry(path: string, options: { encoding: 'bytes' }): Promise<FileEntry<Uint8Array>>;
  readEntry(path: string, options?: ReadOptions): Promise<FileEntry>;
  readEntry(path: string, options?: ReadOptions): Promise<FileEntry> {
    let bytes: boolean;
    try {
      bytes = encodingOf(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call<EntryAnswer>({ type: 'read_entry', path, bytes }).then((answer): FileEntry | Promise<FileEntry> => {
      if ('meta' in answer) return answer;
      return answer.loading.then((loaded) => this.call({ type: 'install_loaded', entry: answer.entry, loaded, bytes, withMeta: true }));
    });
  }

  deleteFile(path: string, options?: ChangeOptions): Promise<void> {
    return this.call({ type: 'delete', path, options });
  }

  fileExists(path: string): Promise<boolean> {
    return this.call({ type: 'exists', path });
  }

  moveFile(from: string, to: string, options?: ChangeOptions): Promise<MoveResult> {
    return this.call({ type: 'move', from, to, options });
  }

  applyBatch(items: readonly BatchItem[], options?: ChangeOptions): Promise<BatchResult> {
    return this.call({ type: 'batch', items, options });
  }

  listFiles(prefix?: string): Promise<string[]> {
    return this.call({ type: 'list_files', prefix });
  }

  listEntries(prefix?: string): Promise<EntryMeta[]> {
    return this.call({ type: 'list_entries', prefix });
  }

  /**
   * Every file's metadata and, for a file in memory, the content of that same
   * version, in one step: what a transaction starts from. The contents are
   * references, never copies (a write replaces an entry's content, it never
   * changes it), so holding them costs no more than keeping those versions alive.
   */
  snapshotVersions(): Promise<SnapshotVersion[]> {
    return this.call({ type: 'snapshot_versions' });
  }

  stat(path: string): Promise<EntryMeta> {
    return this.call({ type: 'stat', path });
  }

  stats(): Promise<FsStats> {
    return this.call({ type: 'stats' });
  }

  flushAll(): Promise<FlushResult> {
    return this.call({ type: 'flush' }, this.slowCallTimeoutMs);
  }

  reset(): Promise<void> {
    return this.call({ type: 'reset' }, this.slowCallTimeoutMs);
  }

  registerFiles(files: Array<{ path: string; size?: number; modifiedAt?: number; mimeType?: string }>): Promise<void> {
    return this.call({ type: 'register_files', files });
  }

  registerPersistence(config: PersistenceConfig): Promise<void> {
    return this.call({ type: 'register_persistence', config }, this.slowCallTimeoutMs);
  }

  getPersistenceConfigs(): Promise<PersistenceConfigInfo[]> {
    return this.call({ type: 'persistence_configs' });
  }

  editFile(path: string, oldStr: string, newStr: string, options?: ChangeOptions): Promise<EntryMeta> {
    return this.call({ type: 'edit', path, oldStr, newStr, options });
  }

  appendFile(path: string, content: Content, options?: ChangeOptions): Promise<EntryMeta> {
    return this.call({ type: 'append', path, content, options });
  }

  /**
   * Reconciles `path` with what the disk holds now: called for every disk
   * event (the disk watcher) and by anyone who changed a file behind the
   * server's back. `path` is the name as it is on disk: one that is not a
   * canonical virtual path (not NFC, control characters) is reported, never
   * taken in under another name. Its own writes are recognised by version and cost one
   * stat; an outside edit is merged with memory or kept beside it as a
   * conflict copy. Resolves once the outcome is applied.
   */
  checkDisk(path: string): Promise<void> {
    return this.call<{ done: Promise<void> }>({ type: 'check_disk', path }).then((answer) => answer.done);
  }

  /**
   * The version (inode, size, mtime) the server last wrote or read at `name`
   * on disk, if any. Synchronous, outside the mailbox (the bases change only
   * in synchronous steps): the disk watcher drops the echo of the server's
   * own write by it without a message.
   */
  ownDiskVersion(name: string): string | undefined {
    return this.core.ownDiskVersion(name);
  }

  // ---- locks (src/coordination/locks.ts) ------------------------------------
  // The table is read by every planned change inside the mailbox; these calls change it directly (JavaScript
  // runs them between handlers), so a lock takes effect for every change planned after it returns.

  lock(pathOrPrefix: string, options: LockOptions): Promise<LockGrant> {
    return settle(() => this.core.locks.lock(pathOrPrefix, options));
  }

  renew(token: string, options: { ttlMs: number }): Promise<LockGrant> {
    return settle(() => this.core.locks.renew(token, options));
  }

  unlock(token: string): Promise<boolean> {
    return settle(() => this.core.locks.unlock(token));
  }

  locks(): Promise<LockInfo[]> {
    return settle(() => this.core.locks.list());
  }

  withLock<T>(path: string, fn: (lock: LockGrant) => Promise<T> | T, options: LockOptions): Promise<T> {
    return withLock(this, path, fn, options);
  }

  /** Releases every lock held by `owner` (an agent that stopped, an MCP session that ended). */
  releaseLocksOf(owner: string): number {
    return this.core.locks.releaseOwner(owner);
  }

  // ---- history (history-api.ts) -----------------------------------------

  history(path: string, query?: HistoryQuery): Promise<HistoryVersion[]> {
    return this.withHistory((h) => h.history(path, query));
  }

  restore(path: string, revision: number, options?: RestoreOptions): Promise<EntryMeta> {
    return this.withHistory((h) => h.restore(path, revision, options));
  }

  listDeleted(prefix?: string): Promise<HistoryVersion[]> {
    return this.withHistory((h) => h.listDeleted(prefix));
  }

  checkpoint(name?: string, options?: CheckpointOptions): Promise<CheckpointInfo> {
    return this.withHistory((h) => h.checkpoint(name, options));
  }

  listCheckpoints(): Promise<CheckpointInfo[]> {
    return this.withHistory((h) => h.listCheckpoints());
  }

  restoreCheckpoint(name: string, options?: RestoreCheckpointOptions): Promise<CheckpointRestore> {
    return this.withHistory((h) => h.restoreCheckpoint(name, options));
  }

  deleteCheckpoint(name: string): Promise<void> {
    return this.withHistory((h) => h.deleteCheckpoint(name));
  }

  diffCheckpoint(a: string, b?: string): Promise<CheckpointDiff> {
    return this.withHistory((h) => h.diffCheckpoint(a, b));
  }

  /** Resolves once every change applied so far is recorded in the history (tests, benchmarks, shutdown). */
  historySettled(): Promise<void> {
    return this.recorder ? this.recorder.drain() : Promise.resolve();
  }

  private readRevision(path: string, revision: number, bytes: boolean): Promise<Content> {
    return this.withHistory(async (h) => {
      const content = await h.contentAt(path, revision);
      return bytes ? content : new TextDecoder().decode(content);
    });
  }

  private withHistory<T>(work: (history: ScopeHistory) => Promise<T>): Promise<T> {
    const history = this.scopeHistory;
    if (!history) {
      return Promise.reject(fsErrors.invalid('this filesystem keeps no history: start it with the `history` option, or through startScope, which always does'));
    }
    try {
      return work(history);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async terminate(): Promise<void> {
    try {
      await this.core.terminate();
    } finally {
      await this.recorder?.close();
    }
  }

  /** The snapshot (when asked for) reflects every change already applied; later changes arrive as events. */
  subscribe(listener: FsListener, options: { snapshot?: boolean } = {}): () => void {
    return this.core.subscribe(listener, options.snapshot === true);
  }

  /**
   * A fast-path answer, kept to the runtime's turn budget: a caller reading
   * in a tight loop would otherwise starve timers, I/O and other scopes.
   * The answer is taken now, so a write sent after the read cannot show in
   * it; reads made while one waits queue behind it, so answers keep their
   * order. Reading the clock costs about as much as the read itself, so the
   * budget is checked every READS_PER_BUDGET_CHECK reads, and an isolated
   * read costs what it did without a budget.
   */
  private answerInTurn(content: Content): Promise<Content> {
    if (this.turnWait) return this.turnWait.then(() => content);
    if (++this.readsSinceCheck < READS_PER_BUDGET_CHECK) return Promise.resolve(content);
    this.readsSinceCheck = 0;
    if (!overBudget()) return Promise.resolve(content);
    const wait = nextTurn().then(() => {
      if (this.turnWait === wait) this.turnWait = undefined;
    });
    this.turnWait = wait;
    return wait.then(() => content);
  }

  private call<R>(message: FsCall, timeoutMs?: number, inTurn = false): Promise<R> {
    const options = timeoutMs === undefined ? {} : { timeoutMs };
    if (inTurn || !this.order.waiting) return this.actor.call<R>(message, options);
    return this.order.call(() => this.actor.call<R>(message, options)); // behind large writes still being prepared
  }

  // ---- handlers ----------------------------------------------------------

  /** One message from a caller; what it returns (or throws) is the answer. */
  private handleCall(message: FsCall): unknown {
    if (this.trace) traceSafely(this.trace, message);
    const { core } = this;
    switch (message.type) {
      case 'write':
        return writeFile(core, message.path, message.content, message.options);
      case 'append':
        return appendFile(core, message.path, message.content, message.options);
      case 'edit':
        return editFile(core, message.path, message.oldStr, message.newStr, message.options);
      case 'delete':
        return deleteFile(core, message.path, message.options);
      case 'move':
        return moveFile(core, message.from, message.to, message.options);
      case 'batch':
        return applyBatch(core, message.items, message.options);
      case 'read':
        return readAnswer(core, message.path, message.bytes);
      case 'install_loaded': {
        const loaded = core.installLoaded(message.entry, message.loaded);
        return message.withMeta ? { meta: loadedMeta(loaded), content: contentAs(loaded, message.bytes) } : contentAs(loaded, message.bytes);
      }
      case 'read_entry':
        return entryAnswer(core, message.path, message.bytes);
      case 'exists':
        return core.entry(normalizePath(message.path)) !== undefined;
      case 'stat':
        return toMeta(existing(core, normalizePath(message.path)));
      case 'list_files':
        return core.under(normalizeListPrefix(message.prefix)).map((e) => e.path);
      case 'list_entries':
        return core.under(normalizeListPrefix(message.prefix)).map(toMeta);
      case 'snapshot_versions':
        return core.under('/').map((entry): SnapshotVersion => (entry.content ? { meta: loadedMeta(entry as LoadedEntry), content: entry.content } : { meta: toMeta(entry) }));
      case 'stats':
        return core.stats();
      case 'flush':
        return core.flush();
      case 'reset':
        return core.reset();
      case 'register_files':
        return core.registerFiles(message.files);
      case 'register_persistence':
        return core.registerPersistence(message.config);
      case 'persistence_configs':
        return core.configInfo();
      case 'check_disk':
        // Answered at once, so the mailbox goes on while the disk is read.
        return { done: core.checkDisk(message.path) };
      default:
        return unknownMessage(message);
    }
  }

  /** One message the server sent itself. */
  private handleCast(message: FsCast): Promise<void> | undefined {
    if (this.trace) traceSafely(this.trace, message);
    switch (message.type) {
      case 'persist_due':
        this.core.persistDue(message.key);
        return undefined;
      case 'persist_settled':
        this.core.persistSettled();
        return undefined;
      case 'disk_read':
        return this.core.diskRead(message.path, message.ticket);
      default:
        return unknownMessage(message);
    }
  }
}

type ReadAnswer = { content: Content } | { entry: Entry; loading: Promise<LoadedFile | null> };
type EntryAnswer = FileEntry | { entry: Entry; loading: Promise<LoadedFile | null> };

/** The metadata and content of a loaded file, or the entry and its lazy load. */
function entryAnswer(core: ServerCore, path: string, bytes: boolean): EntryAnswer {
  const target = normalizePath(path);
  const entry = existing(core, target);
  const loaded = core.peekLoaded(target);
  return loaded ? { meta: loadedMeta(loaded), content: contentAs(loaded, bytes) } : { entry, loading: core.startLoad(entry) };
}

/** The content of a loaded file, or the entry and its lazy load (which the caller awaits outside the mailbox). */
function readAnswer(core: ServerCore, path: string, bytes: boolean): ReadAnswer {
  const target = normalizePath(path);
  const entry = existing(core, target);
  const loaded = core.peekLoaded(target);
  return loaded ? { content: contentAs(loaded, bytes) } : { entry, loading: core.startLoad(entry) };
}

function existing(core: ServerCore, path: string): Entry {
  const entry = core.entry(path);
  if (!entry) throw fsErrors.notFound(path);
  return entry;
}

function traceSafely(trace: (message: FsMessage) => void, message: FsMessage): void {
  try {
    trace(message);
  } catch {
    // A broken tracer is its owner's problem; the filesystem carries on.
  }
}

function unknownMessage(message: never): never {
  throw fsErrors.invalid(`unknown message ${JSON.stringify((message as { type?: unknown }).type)}`);
}

function contentAs(entry: LoadedEntry, bytes: boolean): Content {
  // A copy: callers must never be able to change the stored bytes.
  return bytes ? new Uint8Array(entry.content) : textOf(entry);
}

function encodingOf(options: ReadOptions | undefined): boolean {
  const encoding = options?.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'bytes') throw fsErrors.invalid(`unknown encoding ${JSON.stringify(encoding)}`);
  return encoding === 'bytes';
}

function normalizeListPrefix(prefix: string | undefined): string {
  return prefix === undefined ? '/' : normalizePrefix(prefix);
}

function durabilityOf(value: Durability | undefined): Durability {
  const durability = value ?? 'journal';
  if (durability !== 'journal' && durability !== 'debounced' && durability !== 'immediate') {
    throw fsErrors.invalid(`unknown durability ${JSON.stringify(durability)}`);
  }
  return durability;
}

/** A synchronous step as a promise: a throw becomes a rejection. */
async function settle<T>(step: () => T | Promise<T>): Promise<T> {
  return step();
}
