import { ScopeFsError } from '../../src/errors.js';
import { LockTable, withLock, type FileLocks, type LockGrant, type LockOptions } from '../../src/coordination/locks.js';
import type { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import type { AuditedMethod } from '../../src/audit/audit-fs.js';
import type { FileSystem, FsListener, SnapshotVersion } from '../../src/types.js';

const RESTART_WAIT_MS = 10_000;

/** Hears a call that failed: the method, its arguments, the error (audit-fs.ts `recordRefusal` tells which are refusals). */
export type RefusalListener = (method: AuditedMethod, args: unknown[], err: unknown) => void;

/**
 * The `fs` a scope hands out: it forwards to whichever FileSystemServer is
 * currently running, so callers keep one reference across restarts. Calls
 * made while the server restarts wait for it (bounded), and subscriptions are
 * re-attached to the new server.
 */
export class StableFileSystem implements FileSystem, FileLocks {
  private server: FileSystem | undefined;
  private waiters: Array<(server: FileSystem) => void> = [];
  private readonly listeners = new Map<FsListener, () => void>();
  private closed = false;
  /** The scope's locks: handed to every FileSystemServer it starts, so they survive a restart of the server. */
  readonly lockTable = new LockTable();
  /** When syncing: the store's locks, which the table mirrors (docs/coordination.md#locks). */
  private storeLocks: StoreBackedLocks | undefined;

  /** Where refused calls are reported (the scope's audit log), before the caller sees the error. */
  private refusals: RefusalListener | undefined;

  /** Makes the scope's locks scope-wide: lock, renew and unlock go to the store from now on. */
  backLocksWith(locks: StoreBackedLocks): void {
    this.storeLocks = locks;
  }

  /** Before a change presenting a lock token is planned, the store's word on it (a dead token then fails ESTALE). */
  private async fenced(options: { lockToken?: string } | undefined): Promise<FileSystem> {
    if (this.storeLocks && typeof options?.lockToken === 'string') await this.storeLocks.checkToken(options.lockToken);
    return this.current();
  }

  /** Reports every refused call, whoever makes it (the library, an agent, an interface), to `listener`. */
  reportRefusalsTo(listener: RefusalListener): void {
    this.refusals = listener;
  }

  /**
   * `call` on `server`, its failure reported as a refusal first. `return
   * await`: an async function that returned the call's promise as it is
   * would take two more turns of the microtask queue to settle.
   */
  private async audited<T>(method: AuditedMethod, args: unknown[], server: Promise<FileSystem>, call: (fs: FileSystem) => Promise<T>): Promise<T> {
    try {
      return await call(await server);
    } catch (err) {
      this.refusals?.(method, args, err);
      throw err;
    }
  }

  attach(server: FileSystem): void {
    this.server = server;
    for (const [listener] of this.listeners) this.listeners.set(listener, server.subscribe(listener));
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(server);
  }

  detach(server: FileSystem): void {
    if (this.server !== server) return;
    this.server = undefined;
    for (const [listener, unsubscribe] of this.listeners) {
      unsubscribe();
      this.listeners.set(listener, () => undefined);
    }
  }

  /** After the scope stopped, calls fail at once instead of waiting for a restart. */
  close(): void {
    this.closed = true;
    this.server = undefined;
  }

  private current(): Promise<FileSystem> {
    if (this.server) return Promise.resolve(this.server);
    if (this.closed) return Promise.reject(new ScopeFsError('ESTOPPED', 'the scope is stopped'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ScopeFsError('ETIMEDOUT', 'the filesystem server did not come back in time')),
        RESTART_WAIT_MS,
      );
      this.waiters.push((server) => {
        clearTimeout(timer);
        resolve(server);
      });
    });
  }

  subscribe(listener: FsListener, options?: { snapshot?: boolean }): () => void {
    this.listeners.set(listener, this.server ? this.server.subscribe(listener, options) : () => undefined);
    return () => {
      this.listeners.get(listener)?.();
      this.listeners.delete(listener);
    };
  }

  // Calls that change files, and reads (whose access refusals count), go through `audited`.
  writeFile: FileSystem['writeFile'] = (...args) => this.audited('writeFile', args, this.fenced(args[2]), (fs) => fs.writeFile(...args));
  readFile = ((path: string, options?: { encoding?: 'utf8' | 'bytes' }) =>
    this.audited('readFile', [path, options], this.current(), (fs) => fs.readFile(path, options as { encoding: 'bytes' }))) as FileSystem['readFile'];
  readEntry = ((path: string, options?: { encoding?: 'utf8' | 'bytes' }) =>
    this.audited('readEntry', [path, options], this.current(), (fs) => fs.readEntry(path, options as { encoding: 'bytes' }))) as FileSystem['readEntry'];
  history: FileSystem['history'] = (...args) => this.audited('history', args, this.current(), (fs) => fs.history(...args));
  restore: FileSystem['restore'] = (...args) => this.audited('restore', args, this.current(), (fs) => fs.restore(...args));
  listDeleted: FileSystem['listDeleted'] = async (...args) => (await this.current()).listDeleted(...args);
  checkpoint: FileSystem['checkpoint'] = async (...args) => (await this.current()).checkpoint(...args);
  listCheckpoints: FileSystem['listCheckpoints'] = async () => (await this.current()).listCheckpoints();
  restoreCheckpoint: FileSystem['restoreCheckpoint'] = (...args) =>
    this.audited('restoreCheckpoint', args, this.current(), (fs) => fs.restoreCheckpoint(...args));
  deleteCheckpoint: FileSystem['deleteCheckpoint'] = async (name) => (await this.current()).deleteCheckpoint(name);
  diffCheckpoint: FileSystem['diffCheckpoint'] = async (...args) => (await this.current()).diffCheckpoint(...args);
  deleteFile: FileSystem['deleteFile'] = (...args) => this.audited('deleteFile', args, this.fenced(args[1]), (fs) => fs.deleteFile(...args));
  fileExists: FileSystem['fileExists'] = async (...args) => (await this.current()).fileExists(...args);
  applyBatch: FileSystem['applyBatch'] = (...args) => this.audited('applyBatch', args, this.fenced(args[1]), (fs) => fs.applyBatch(...args));
  moveFile: FileSystem['moveFile'] = (...args) => this.audited('moveFile', args, this.fenced(args[2]), (fs) => fs.moveFile(...args));
  listFiles: FileSystem['listFiles'] = (...args) => this.audited('listFiles', args, this.current(), (fs) => fs.listFiles(...args));
  listEntries: FileSystem['listEntries'] = (...args) => this.audited('listEntries', args, this.current(), (fs) => fs.listEntries(...args));
  /** FileSystemServer.snapshotVersions: where a transaction starts from. */
  snapshotVersions = async (): Promise<SnapshotVersion[]> => {
    const server = (await this.current()) as FileSystem & { snapshotVersions?: () => Promise<SnapshotVersion[]> };
    return server.snapshotVersions ? server.snapshotVersions() : (await server.listEntries('/')).map((meta) => ({ meta }));
  };
  stat: FileSystem['stat'] = (...args) => this.audited('stat', args, this.current(), (fs) => fs.stat(...args));
  stats: FileSystem['stats'] = async () => (await this.current()).stats();
  flushAll: FileSystem['flushAll'] = async () => (await this.current()).flushAll();
  reset: FileSystem['reset'] = async () => (await this.current()).reset();
  registerFiles: FileSystem['registerFiles'] = async (...args) => (await this.current()).registerFiles(...args);
  registerPersistence: FileSystem['registerPersistence'] = async (...args) =>
    (await this.current()).registerPersistence(...args);
  getPersistenceConfigs: FileSystem['getPersistenceConfigs'] = async () =>
    (await this.current()).getPersistenceConfigs();
  editFile: FileSystem['editFile'] = (...args) => this.audited('editFile', args, this.fenced(args[3]), (fs) => fs.editFile(...args));
  appendFile: FileSystem['appendFile'] = (...args) => this.audited('appendFile', args, this.fenced(args[2]), (fs) => fs.appendFile(...args));
  checkDisk: FileSystem['checkDisk'] = async (...args) => (await this.current()).checkDisk(...args);
  /** FileSystemServer.ownDiskVersion of the server running now; undefined while it restarts. */
  ownDiskVersion(name: string): string | undefined {
    return (this.server as (FileSystem & { ownDiskVersion?: (name: string) => string | undefined }) | undefined)?.ownDiskVersion?.(name);
  }

  // Locks live in the scope's table, not in the server: they answer even while the server restarts.
  // When syncing they live in the store, and the table mirrors them.
  lock: FileLocks['lock'] = async (pathOrPrefix, options) =>
    this.storeLocks ? this.storeLocks.lock(pathOrPrefix, options) : this.lockTable.lock(pathOrPrefix, options);
  renew: FileLocks['renew'] = async (token, options) =>
    this.storeLocks ? this.storeLocks.renew(token, options) : this.lockTable.renew(token, options);
  unlock: FileLocks['unlock'] = async (token) => (this.storeLocks ? this.storeLocks.unlock(token) : this.lockTable.unlock(token));
  locks: FileLocks['locks'] = async () => (this.storeLocks ? this.storeLocks.locks() : this.lockTable.list());
  withLock<T>(path: string, fn: (lock: LockGrant) => Promise<T> | T, options: LockOptions): Promise<T> {
    return withLock(this, path, fn, options);
  }
}
