/**
 * A scope as one caller may use it: every change carries the caller's actor,
 * and a limited grant is enforced on every path, so the files API, status,
 * events and MCP all hand the same facade to the code they already have.
 * The decisions are checkGrant's (tokens-grant.ts); this only applies them.
 */
import { ScopeFsError } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import type { ConflictResolution, SyncHandle, SyncStatus } from '../sync/types.js';
import type {
  BatchItem,
  BatchResult,
  ChangeOptions,
  CheckpointDiff,
  CheckpointInfo,
  CheckpointOptions,
  CheckpointRestore,
  FileEntry,
  HistoryQuery,
  HistoryVersion,
  RestoreCheckpointOptions,
  RestoreOptions,
  Content,
  EntryMeta,
  FileSystem,
  FsListener,
  FsStats,
  PersistenceConfig,
  ReadOptions,
  ScopeHandle,
  WriteOptions,
} from '../types.js';
import type { FileLocks } from '../coordination/locks.js';
import type { Transactions } from '../transactions/transactions.js';
import { transactionsViewedThrough } from '../transactions/viewed-through.js';
import { eventForGrant } from './tokens-events.js';
import { assertGrant, checkGrant, describeGrant, grantAllowsAnywhere, type Grant, type GrantOperation } from './tokens-grant.js';

/** Who is calling: the actor recorded on its changes, and its grant (none: everything, as the owner). */
export interface Principal {
  /** `owner`, `token:<name>`, or an app's own id for its users. */
  actor: string;
  grant?: Grant;
}

export const OWNER: Principal = { actor: 'owner' };

/** The scope as `principal` may use it. */
export function scopeForPrincipal<S extends ScopeHandle>(scope: S, principal: Principal): ScopeHandle {
  const fs = new PrincipalFileSystem(scope.fs, principal);
  const { grant } = principal;
  // The owner keeps everything else the scope offers (audit, agents, what later features add); a limited
  // caller gets only what is listed below, so a new capability is closed to it until it is added here.
  if (!grant) return { ...scope, fs };
  return {
    scopeKey: scope.scopeKey,
    key: scope.key,
    // The host directory is not a path in the grant.
    root: undefined,
    fs,
    sync: scope.sync && grantedSync(scope.sync, grant),
    locks: scope.locks && grantedLocks(scope.locks, grant),
    transactions: scope.transactions && grantedTransactions(scope.transactions, { actor: principal.actor, grant }),
    tree: () => scope.tree(),
    stop: () => Promise.reject(ownerOnly(grant, 'stopping the scope')),
  };
}

/**
 * A FileSystem that tags changes with the principal's actor and refuses what
 * its grant does not cover. Every method is async: a refusal is a rejected
 * promise, like any other filesystem error.
 */
class PrincipalFileSystem implements FileSystem {
  constructor(
    private readonly fs: FileSystem,
    private readonly principal: Principal,
  ) {}

  readEntry(path: string, options?: { encoding?: 'utf8' }): Promise<FileEntry<string>>;
  readEntry(path: string, options: { encoding: 'bytes' }): Promise<FileEntry<Uint8Array>>;
  readEntry(path: string, options?: ReadOptions): Promise<FileEntry>;
  async readEntry(path: string, options?: ReadOptions): Promise<FileEntry> {
    this.check('read', path);
    return this.fs.readEntry(path, options);
  }

  async history(path: string, query?: HistoryQuery): Promise<HistoryVersion[]> {
    this.check('read', path);
    return this.fs.history(path, query);
  }

  /** Restoring (or undeleting) a version is a write of that path. */
  async restore(path: string, revision: number, options?: RestoreOptions): Promise<EntryMeta> {
    this.check('write', path);
    return this.fs.restore(path, revision, { ...options, actor: this.principal.actor });
  }

  async listDeleted(prefix?: string): Promise<HistoryVersion[]> {
    return (await this.fs.listDeleted(prefix)).filter((version) => this.readable(version.path));
  }

  // Checkpoints span the scope (or a prefix of it): the owner's.
  checkpoint(name?: string, options?: CheckpointOptions): Promise<CheckpointInfo> {
    return this.ownerOnly('checkpoints', () => this.fs.checkpoint(name, options));
  }

  listCheckpoints(): Promise<CheckpointInfo[]> {
    return this.ownerOnly('checkpoints', () => this.fs.listCheckpoints());
  }

  restoreCheckpoint(name: string, options?: RestoreCheckpointOptions): Promise<CheckpointRestore> {
    return this.ownerOnly('restoring a checkpoint', () => this.fs.restoreCheckpoint(name, { ...options, actor: this.principal.actor }));
  }

  deleteCheckpoint(name: string): Promise<void> {
    return this.ownerOnly('deleting a checkpoint', () => this.fs.deleteCheckpoint(name));
  }

  diffCheckpoint(a: string, b?: string): Promise<CheckpointDiff> {
    return this.ownerOnly('checkpoints', () => this.fs.diffCheckpoint(a, b));
  }

  async writeFile(path: string, content: Content, options?: WriteOptions): Promise<EntryMeta> {
    this.check('write', path);
    return this.fs.writeFile(path, content, { ...options, actor: this.principal.actor });
  }

  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<string>;
  readFile(path: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  readFile(path: string, options?: ReadOptions): Promise<Content>;
  async readFile(path: string, options?: ReadOptions): Promise<Content> {
    this.check('read', path);
    return this.fs.readFile(path, options);
  }

  async deleteFile(path: string, options?: ChangeOptions): Promise<void> {
    this.check('delete', path);
    return this.fs.deleteFile(path, { ...options, actor: this.principal.actor });
  }

  async fileExists(path: string): Promise<boolean> {
    this.check('read', path);
    return this.fs.fileExists(path);
  }

  async applyBatch(items: readonly BatchItem[], options?: ChangeOptions): Promise<BatchResult> {
    for (const item of items) this.check('delete' in item && item.delete === true ? 'delete' : 'write', item.path);
    return this.fs.applyBatch(items, { ...options, actor: this.principal.actor });
  }

  async moveFile(from: string, to: string, options?: ChangeOptions) {
    this.checkPrefix('move', from);
    this.checkPrefix('move', to);
    return this.fs.moveFile(from, to, { ...options, actor: this.principal.actor });
  }

  async listFiles(prefix?: string): Promise<string[]> {
    return (await this.fs.listFiles(prefix)).filter((path) => this.readable(path));
  }

  async listEntries(prefix?: string): Promise<EntryMeta[]> {
    return (await this.fs.listEntries(prefix)).filter((entry) => this.readable(entry.path));
  }

  async stat(path: string): Promise<EntryMeta> {
    this.check('read', path);
    return this.fs.stat(path);
  }

  async stats(): Promise<FsStats> {
    const stats = await this.fs.stats();
    return { ...stats, diskAlerts: stats.diskAlerts.filter((alert) => this.readable(alert.path)) };
  }

  async flushAll() {
    const result = await this.fs.flushAll();
    return {
      flushed: result.flushed.filter((path) => this.readable(path)),
      failed: result.failed.filter((failure) => this.readable(failure.path)),
    };
  }

  reset(): Promise<void> {
    return this.ownerOnly('reset', () => this.fs.reset());
  }

  registerFiles(files: Parameters<FileSystem['registerFiles']>[0]): Promise<void> {
    return this.ownerOnly('registering files', () => this.fs.registerFiles(files));
  }

  registerPersistence(config: PersistenceConfig): Promise<void> {
    return this.ownerOnly('registering persistence', () => this.fs.registerPersistence(config));
  }

  getPersistenceConfigs() {
    return this.ownerOnly('reading the persistence configs', () => this.fs.getPersistenceConfigs());
  }

  async editFile(path: string, oldStr: string, newStr: string, options?: ChangeOptions): Promise<EntryMeta> {
    this.check('write', path);
    return this.fs.editFile(path, oldStr, newStr, { ...options, actor: this.principal.actor });
  }

  async appendFile(path: string, content: Content, options?: ChangeOptions): Promise<EntryMeta> {
    this.check('write', path);
    return this.fs.appendFile(path, content, { ...options, actor: this.principal.actor });
  }

  subscribe(listener: FsListener, options?: { snapshot?: boolean }): () => void {
    const { grant } = this.principal;
    if (!grant) return this.fs.subscribe(listener, options);
    return this.fs.subscribe((event) => {
      const seen = eventForGrant(grant, event);
      return seen === undefined ? undefined : listener(seen);
    }, options);
  }

  async checkDisk(path: string): Promise<void> {
    this.check('write', path);
    return this.fs.checkDisk(path);
  }

  /** The path is normalised first, so the grant judges what the filesystem would act on. */
  private check(operation: GrantOperation, path: string): void {
    if (this.principal.grant) assertGrant(this.principal.grant, operation, normalizePath(path));
  }

  /** A move's ends may be files or directories: judged as the directory (which covers the file of that name). */
  private checkPrefix(operation: GrantOperation, path: string): void {
    if (!this.principal.grant) return;
    const prefix = normalizePrefix(path);
    assertGrant(this.principal.grant, operation, prefix === '/' ? prefix : prefix.slice(0, -1));
  }

  private readable(path: string): boolean {
    return !this.principal.grant || checkGrant(this.principal.grant, 'read', path).allowed;
  }

  private ownerOnly<T>(what: string, work: () => Promise<T>): Promise<T> {
    const { grant } = this.principal;
    return grant ? Promise.reject(ownerOnly(grant, what)) : work();
  }
}

/**
 * Locks as a limited grant may use them: taking one needs write on the path
 * (or prefix), listing shows granted paths only; renewing and unlocking need
 * the lock's token, which proves holding it.
 */
function grantedLocks(locks: FileLocks, grant: Grant): FileLocks {
  const checkTarget = (path: string) => {
    const prefix = normalizePrefix(path);
    assertGrant(grant, 'write', prefix === '/' ? prefix : prefix.slice(0, -1));
  };
  return {
    lock: async (path, options) => {
      checkTarget(path);
      return locks.lock(path, options);
    },
    renew: (token, options) => locks.renew(token, options),
    unlock: (token) => locks.unlock(token),
    locks: async () => (await locks.locks()).filter((lock) => checkGrant(grant, 'read', lock.path).allowed),
    withLock: async (path, fn, options) => {
      checkTarget(path);
      return locks.withLock(path, fn, options);
    },
  };
}

/**
 * Transactions as a limited grant may use them: beginning one needs write
 * somewhere, and it runs as the caller's actor; the caller sees, uses and
 * hears only its own; a transaction's fs enforces the grant like the scope's
 * (its paths are judged the same way, inside or outside). Anything else
 * Transactions offers (aborting them all) is the owner's.
 */
function grantedTransactions(transactions: Transactions, principal: Principal & { grant: Grant }): Transactions {
  const { actor, grant } = principal;
  const viewed = transactionsViewedThrough(transactions, (fs) => new PrincipalFileSystem(fs, principal));
  const mayBegin = () => {
    if (!grantAllowsAnywhere(grant, 'write')) {
      throw new ScopeFsError('EACCES', `${grant.holder} may not begin a transaction: its grant may write nowhere (${describeGrant(grant)}). Ask the owner for a token that may write.`);
    }
  };
  const granted: Partial<Transactions> = {
    begin: async (options = {}) => {
      mayBegin();
      return viewed.begin({ ...options, actor });
    },
    run: async (fn, options = {}) => {
      mayBegin();
      return viewed.run(fn, { ...options, actor });
    },
    get: (id) => {
      const transaction = viewed.get(id);
      return transaction && transaction.info().actor === actor ? transaction : undefined;
    },
    list: () => transactions.list().filter((info) => info.actor === actor),
    subscribe: (listener) => transactions.subscribe((event) => (event.actor === actor ? listener(event) : undefined)),
    abortAll: () => {
      throw ownerOnly(grant, 'aborting every transaction');
    },
  };
  // Only what is listed above: a capability added to Transactions later stays closed to a limited caller.
  return new Proxy(transactions, { get: (_target, property) => granted[property as keyof Transactions] });
}

/** Sync as a limited grant sees it: only its paths, and no operator controls. */
function grantedSync(sync: SyncHandle, grant: Grant): SyncHandle {
  const readable = (path: string) => checkGrant(grant, 'read', path).allowed;
  const refuse = (what: string) => () => Promise.reject(ownerOnly(grant, what));
  return {
    status: async () => statusForGrant(await sync.status(), readable),
    conflicts: async () => (await sync.conflicts()).filter((conflict) => readable(conflict.path)),
    resolveConflict: async (path: string, resolution: ConflictResolution) => {
      assertGrant(grant, 'write', normalizePath(path));
      return sync.resolveConflict(path, resolution);
    },
    idle: (options) => sync.idle(options),
    pause: refuse('pausing sync'),
    resume: refuse('resuming sync'),
    confirm: refuse('confirming the safety gate'),
    resync: refuse('a resync'),
    subscribe: (listener) =>
      sync.subscribe((event) => {
        const seen = eventForGrant(grant, event);
        if (seen !== undefined) listener(seen);
      }),
  };
}

function statusForGrant(status: SyncStatus, readable: (path: string) => boolean): SyncStatus {
  const seen: SyncStatus = {
    ...status,
    conflicts: status.conflicts.filter(readable),
    pending: status.pending.filter(readable),
    failedPaths: status.failedPaths.filter(readable),
  };
  if (status.gaveUp) seen.gaveUp = status.gaveUp.filter((failure) => readable(failure.path));
  if (status.held) seen.held = status.held.filter((held) => readable(held.path));
  // An error's message may quote any path: a limited token only learns that there is one.
  if (status.error !== undefined) seen.error = 'sync reported an error; the owner can see it in the status';
  return seen;
}

function ownerOnly(grant: Grant, what: string): ScopeFsError {
  return new ScopeFsError('EACCES', `${grant.holder} may not do this: ${what} needs the owner token`);
}
