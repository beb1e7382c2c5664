/**
 * The per-scope FileSystemServer: the public face of an actor whose state is
 * a ServerCore. Every call is a message, handled one at a time in order.
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
  ChangeOptions,
  Content,
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
  WriteOptions,
} from '../types.js';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_FILE_BYTES, nonNegative } from './configs.js';
import { textOf, toMeta, type Entry } from './entries.js';
import { unloadedEntry, type KnownFile } from './indexer.js';
import { moveFile } from './moves.js';
import { appendFile, deleteFile, editFile, writeFile } from './mutations.js';
import type { RetryOptions } from './persist-scheduler.js';
import { ServerCore, type LoadedFile } from './server-core.js';

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
}

type Job = (core: ServerCore) => unknown;

const DEFAULT_CALL_TIMEOUT_MS = 5_000;
const SLOW_CALL_TIMEOUT_MS = 120_000;

export class FileSystemServer implements FileSystem, Process {
  private readonly core: ServerCore;
  private readonly actor: Actor<Job, Job>;
  private readonly slowCallTimeoutMs: number;

  private constructor(core: ServerCore, actor: Actor<Job, Job>, callTimeoutMs: number) {
    this.core = core;
    this.actor = actor;
    this.slowCallTimeoutMs = Math.max(callTimeoutMs, SLOW_CALL_TIMEOUT_MS);
  }

  /** Indexes persistence (metadata only), replays the journal, and starts the actor. */
  static async start(options: FileSystemServerOptions = {}): Promise<FileSystemServer> {
    const callTimeoutMs = nonNegative(options.callTimeoutMs, DEFAULT_CALL_TIMEOUT_MS, 'callTimeoutMs');
    let actor: Actor<Job, Job> | undefined;
    const core = new ServerCore({
      configs: options.configs ?? [],
      durability: durabilityOf(options.durability),
      journalPath: options.journalPath,
      fsyncJournal: options.fsyncJournal ?? false,
      debounceMs: nonNegative(options.debounceMs, DEFAULT_DEBOUNCE_MS, 'debounceMs'),
      maxFileBytes: nonNegative(options.maxFileBytes, DEFAULT_MAX_FILE_BYTES, 'maxFileBytes'),
      retry: options.retry ?? {},
      onTimer: (key) => actor?.cast((c) => c.persister.due(key)),
      post: (job) => actor?.cast(job),
    });
    actor = new Actor<Job, Job>(
      {
        init: () => core.init(),
        handleCall: (job) => job(core),
        handleCast: (job) => void job(core),
        terminate: () => core.terminate(),
      },
      { name: options.name ?? 'fs', callTimeoutMs },
    );
    await actor.start();
    return new FileSystemServer(core, actor, callTimeoutMs);
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

  // ---- FileSystem --------------------------------------------------------

  writeFile(path: string, content: Content, options?: WriteOptions): Promise<EntryMeta> {
    return this.call((core) => writeFile(core, path, content, options));
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
    if (this.actor.idle && this.actor.status === 'running') {
      // Table keys are normalised paths, so a hit needs no validation.
      const loaded = this.core.peekLoaded(path);
      if (loaded) {
        const content = contentAs(loaded, bytes);
        if (!overBudget()) return Promise.resolve(content);
        // A caller reading in a tight loop would otherwise starve timers, I/O and other scopes.
        // The answer is taken now, so a write sent after this read still cannot show in it.
        return nextTurn().then(() => content);
      }
    }
    return this.readThroughMailbox(path, bytes);
  }

  private readThroughMailbox(path: string, bytes: boolean): Promise<Content> {
    return this.call((core): ReadAnswer => {
      const target = normalizePath(path);
      const entry = core.entries.get(target);
      if (!entry) throw fsErrors.notFound(target);
      // A lazy load runs outside the mailbox, so other calls (and other
      // loads) go on meanwhile; its bytes are installed by a second call.
      const loaded = core.peekLoaded(target);
      return loaded ? { content: contentAs(loaded, bytes) } : { entry, loading: core.startLoad(entry) };
    }).then(async (answer): Promise<Content> => {
      if ('content' in answer) return answer.content;
      const loaded = await answer.loading;
      return this.call((core) => contentAs(core.installLoaded(answer.entry, loaded), bytes));
    });
  }

  deleteFile(path: string, options?: ChangeOptions): Promise<void> {
    return this.call((core) => deleteFile(core, path, options));
  }

  fileExists(path: string): Promise<boolean> {
    return this.call((core) => core.entries.has(normalizePath(path)));
  }

  moveFile(from: string, to: string, options?: ChangeOptions): Promise<MoveResult> {
    return this.call((core) => moveFile(core, from, to, options));
  }

  listFiles(prefix?: string): Promise<string[]> {
    return this.call((core) => core.entries.under(normalizeListPrefix(prefix)).map((e) => e.path));
  }

  listEntries(prefix?: string): Promise<EntryMeta[]> {
    return this.call((core) => core.entries.under(normalizeListPrefix(prefix)).map(toMeta));
  }

  stat(path: string): Promise<EntryMeta> {
    return this.call((core) => {
      const target = normalizePath(path);
      const entry = core.entries.get(target);
      if (!entry) throw fsErrors.notFound(target);
      return toMeta(entry);
    });
  }

  stats(): Promise<FsStats> {
    return this.call((core) => core.stats());
  }

  flushAll(): Promise<FlushResult> {
    return this.call((core) => core.flush(), this.slowCallTimeoutMs);
  }

  reset(): Promise<void> {
    return this.call((core) => core.reset(), this.slowCallTimeoutMs);
  }

  registerFiles(files: Array<{ path: string; size?: number; modifiedAt?: number; mimeType?: string }>): Promise<void> {
    return this.call((core) => registerFiles(core, files));
  }

  registerPersistence(config: PersistenceConfig): Promise<void> {
    return this.call((core) => core.registerPersistence(config), this.slowCallTimeoutMs);
  }

  getPersistenceConfigs(): Promise<PersistenceConfigInfo[]> {
    return this.call((core) => core.configs.info());
  }

  editFile(path: string, oldStr: string, newStr: string, options?: ChangeOptions): Promise<EntryMeta> {
    return this.call((core) => editFile(core, path, oldStr, newStr, options));
  }

  appendFile(path: string, content: Content, options?: ChangeOptions): Promise<EntryMeta> {
    return this.call((core) => appendFile(core, path, content, options));
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
    return this.call((core) => ({ done: core.replica.checkName(path) })).then((answer) => answer.done);
  }

  /** The snapshot (when asked for) reflects every change already applied; later changes arrive as events. */
  subscribe(listener: FsListener, options: { snapshot?: boolean } = {}): () => void {
    return this.core.subscribers.add(listener, options.snapshot ? this.core.snapshot() : undefined);
  }

  private call<R>(job: (core: ServerCore) => R | Promise<R>, timeoutMs?: number): Promise<R> {
    return this.actor.call<R>(job, timeoutMs === undefined ? {} : { timeoutMs });
  }
}

type ReadAnswer = { content: Content } | { entry: Entry; loading: Promise<LoadedFile | null> };

/** Adds lazily loaded entries for files a driver holds; files already known are left alone. */
function registerFiles(core: ServerCore, files: Array<{ path: string } & KnownFile>): void {
  if (!Array.isArray(files)) throw fsErrors.invalid('registerFiles needs an array of files');
  // Validate everything first: a bad file rejects the call without adding any.
  const added = new Map<string, Entry>();
  for (const file of files) {
    const path = normalizePath(file?.path);
    if (!core.configs.locate(path)) {
      throw fsErrors.invalid(`no persistence config covers ${JSON.stringify(path)}, so it cannot be loaded lazily`, path);
    }
    if (core.entries.has(path) || added.has(path)) continue;
    core.entries.assertPlaceable(path);
    added.set(path, unloadedEntry(path, file, 0));
  }
  for (const entry of added.values()) {
    entry.revision = core.nextRevision();
    core.entries.add(entry);
  }
}

function contentAs(entry: Entry & { content: Uint8Array }, bytes: boolean): Content {
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
