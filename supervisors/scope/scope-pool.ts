/**
 * Many scopes under one data directory (`serve --data <dir>`): each scope
 * starts on the first use of its key, on `<dir>/<scopeDirName(key)>/`, and
 * stops once idle (flushed, pushed, then its tree stopped); at most
 * `maxActive` run at once, the least recently used idle one making room.
 * A use that arrives while its scope starts or stops waits for that, so it
 * only ever gets a whole, running scope.
 *
 * A running scope has a marker in its root, removed once it stopped with
 * everything pushed. A scope that still has one when the pool starts was
 * running when its process died (or stopped before its push was done): it is
 * started at once, so its journal is replayed and its changes pushed without
 * waiting for the next request for it on this server; other servers on the
 * store would otherwise not see what this one acknowledged.
 */
import { access, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { ScopeFsError } from '../../src/errors.js';
import type { ScopeKey } from '../../src/types.js';
import { RESERVED_SEGMENT } from '../../src/paths.js';
import { DynamicSupervisor } from '../runtime/dynamic-supervisor.js';
import { scopeDirName, scopeKeyOfDirName } from './scope-dir.js';
import { canonicalScopeKey } from './scope-key.js';
import { loadScopes } from '../../src/scope-api.js';
import type { RunningScope, ScopeOptions } from './scopes.js';

export interface ScopePoolOptions {
  /** Each scope's root is `<dataDir>/<scopeDirName(key)>/`. */
  dataDir: string;
  /** What every scope is started with, by canonical key (its sync store, app, …). */
  scopeOptions?: (key: string) => Omit<ScopeOptions, 'scopeKey' | 'root'>;
  /** Stop a scope unused for this long. Default 10 minutes. */
  idleMs?: number;
  /** Scopes running at once. Default 1000. */
  maxActive?: number;
  /** How long a start waits for an active scope to become idle at maxActive (then ESTOPPED). Default 10 s. */
  maxActiveWaitMs?: number;
  /** Remove a stopped scope's local copy when every change is in the store (it is pulled again on the next start). */
  ephemeralDisk?: boolean;
  /** How long an idle stop waits for sync to push (then it stops anyway; what is left is pushed on the next start). Default 60 s. */
  pushTimeoutMs?: number;
  /** After a stop that could not push everything, the scope is started again this much later to retry. Default 60 s. */
  pushRetryMs?: number;
}

export type ScopeState = 'active' | 'idle' | 'stopping' | 'stopped';

export interface ScopeListing {
  /** Canonical scope key. */
  key: string;
  /** active: in use now; idle: running, unused; stopped: only on disk. */
  state: ScopeState;
  /** Files and their bytes (running: as the scope knows them; stopped: on disk, outside scopefs's own state). */
  files: number;
  bytes: number;
  /** ISO 8601, for an idle scope. */
  idleSince?: string;
}

export interface ScopePoolEvents {
  /** A scope left running by a process that died, started again to replay and push what it acknowledged. */
  scope_recovering: [{ key: string }];
  scope_recovery_failed: [{ key: string; error: unknown }];
  scope_started: [{ key: string; scope: RunningScope }];
  scope_stopping: [{ key: string }];
  scope_stopped: [{ key: string; localCopyRemoved: boolean }];
}

/** One use of a scope: call release() once when done (a response closed, a stream ended). */
export interface ScopeLease {
  scope: RunningScope;
  release(): void;
}

const DEFAULT_IDLE_MS = 10 * 60_000;
const DEFAULT_MAX_ACTIVE = 1000;

export class ScopePool extends EventEmitter<ScopePoolEvents> {
  private readonly dynamic: Promise<DynamicSupervisor<ScopeKey>>;
  private readonly stoppingKeys = new Set<string>();
  private readonly announced = new WeakSet<RunningScope>();
  /** Scopes that stopped with changes not pushed, waiting to be started again (retryPush). */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Settles once every scope left running by a dead process has been started again (or failed to). */
  readonly recovered: Promise<void>;

  constructor(private readonly options: ScopePoolOptions) {
    super();
    this.dynamic = DynamicSupervisor.start<ScopeKey>({
      name: 'scope-pool',
      intensity: { maxRestarts: 1000, withinMs: 1000 },
      idOf: canonicalScopeKey,
      idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
      maxActive: options.maxActive ?? DEFAULT_MAX_ACTIVE,
      maxActiveWaitMs: options.maxActiveWaitMs,
      stopIdle: (key) => this.stopScope(key),
    });
    this.recovered = this.recoverUnfinished();
  }

  /** The root of a scope: EINVAL for a key that is not one (`..`, NUL, too long). */
  rootOf(key: ScopeKey): string {
    return join(this.options.dataDir, scopeDirName(key));
  }

  /** The running scope for `key`, started if need be, held in use until release(). */
  async acquire(key: ScopeKey): Promise<ScopeLease> {
    if (this.closed) throw new ScopeFsError('ESTOPPED', 'the scope pool is stopped');
    const canonical = canonicalScopeKey(key);
    const root = this.rootOf(canonical);
    const dynamic = await this.dynamic;
    const release = dynamic.use(canonical);
    try {
      await dynamic.settled(canonical);
      const scope = await (await loadScopes()).startScopeUnder(this.dynamic, { ...this.options.scopeOptions?.(canonical), scopeKey: canonical, root });
      if (!this.announced.has(scope)) {
        this.announced.add(scope);
        // Running, its size is the scope's own; a summary left would be stale after a crash.
        await rm(sizeFile(root), { force: true });
        await markRunning(root); // before the request that started it can change anything
        this.emit('scope_started', { key: canonical, scope });
      }
      return { scope, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Runs `work` on the scope, holding it in use meanwhile. */
  async withScope<T>(key: ScopeKey, work: (scope: RunningScope) => Promise<T>): Promise<T> {
    const lease = await this.acquire(key);
    try {
      return await work(lease.scope);
    } finally {
      lease.release();
    }
  }

  /** Every scope running or on disk, with its state and size. */
  async listScopes(): Promise<ScopeListing[]> {
    const dynamic = await this.dynamic;
    const running = new Set(dynamic.children().map((child) => child.id));
    const listings: ScopeListing[] = [];
    for (const key of running) {
      const scope = await (await loadScopes()).getScope(key);
      const stats = await scope?.fs.stats().catch(() => undefined);
      const since = dynamic.idleSince(key);
      const state: ScopeState = this.stoppingKeys.has(key) ? 'stopping' : since === undefined ? 'active' : 'idle';
      listings.push({ key, state, files: stats?.total ?? 0, bytes: stats?.totalSize ?? 0, ...(state === 'idle' ? { idleSince: new Date(since!).toISOString() } : {}) });
    }
    for (const name of await readdir(this.options.dataDir).catch(() => [])) {
      const key = scopeKeyOfDirName(name);
      if (key === undefined || running.has(key)) continue;
      const root = join(this.options.dataDir, name);
      listings.push({ key, state: 'stopped', ...((await sizeAtStop(root)) ?? (await diskSize(root))) });
    }
    return listings.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Stops every scope (each flushed and pushed) and the pool. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    await this.recovered; // a recovery start in flight finishes first, so its scope is stopped below
    const dynamic = await this.dynamic;
    await Promise.all(dynamic.children().map((child) => this.stopScope(child.id)));
    await dynamic.stop();
  }

  /** Flush, push, stop; with ephemeralDisk, remove the local copy when the store has everything. */
  private async stopScope(key: string): Promise<void> {
    const scope = await (await loadScopes()).getScope(key);
    if (!scope) return;
    this.stoppingKeys.add(key);
    this.emit('scope_stopping', { key });
    try {
      await scope.fs.flushAll();
      const pushed = await this.pushed(scope);
      const stats = await scope.fs.stats();
      await scope.stop();
      const remove = pushed && this.options.ephemeralDisk === true && scope.root !== undefined;
      if (remove) await rm(scope.root!, { recursive: true, force: true });
      else if (scope.root !== undefined) {
        await recordSizeAtStop(scope.root, { files: stats.total, bytes: stats.totalSize });
        // Not pushed: the marker stays, so the next start of the pool pushes it even if no request comes.
        if (pushed || !scope.sync) await rm(runningMarker(scope.root), { force: true });
      }
      if (!pushed && scope.sync) this.retryPush(key);
      this.emit('scope_stopped', { key, localCopyRemoved: remove });
    } finally {
      this.stoppingKeys.delete(key);
    }
  }

  /**
   * Starts, one after another, every scope whose root still has the running
   * marker; each then idles and stops as any other (flushed and pushed).
   */
  private async recoverUnfinished(): Promise<void> {
    for (const name of await readdir(this.options.dataDir).catch(() => [])) {
      const key = scopeKeyOfDirName(name);
      if (this.closed) return;
      if (key === undefined || !(await exists(runningMarker(join(this.options.dataDir, name))))) continue;
      this.emit('scope_recovering', { key });
      try {
        await this.withScope(key, async () => undefined);
      } catch (error) {
        if (this.closed) return;
        this.emit('scope_recovery_failed', { key, error });
      }
    }
  }

  /**
   * A scope stopped with changes the store does not have (it was down, or
   * slow): it is started again later, so they reach the other servers without
   * waiting for a request here; it then idles and stops as usual, and comes
   * back again while anything is left.
   */
  private retryPush(key: string): void {
    if (this.closed || this.retries.has(key)) return;
    const timer = setTimeout(() => {
      this.retries.delete(key);
      this.withScope(key, async () => undefined).catch((error: unknown) => {
        if (!this.closed) this.emit('scope_recovery_failed', { key, error });
      });
    }, this.options.pushRetryMs ?? 60_000);
    timer.unref();
    this.retries.set(key, timer);
  }

  /** Waits for sync to push; whether every change is in the store now. */
  private async pushed(scope: RunningScope): Promise<boolean> {
    if (!scope.sync) return false;
    try {
      await scope.sync.idle({ timeoutMs: this.options.pushTimeoutMs ?? 60_000 });
      const status = await scope.sync.status();
      return status.connected && status.pending.length === 0 && status.conflicts.length === 0 && status.failedPaths.length === 0;
    } catch {
      return false; // not pushed now: the local copy stays, and its sync state pushes it on the next start
    }
  }
}

/** Present while a scope runs, and after a stop that could not push everything. */
const runningMarker = (root: string) => join(root, RESERVED_SEGMENT, 'running');

async function markRunning(root: string): Promise<void> {
  await mkdir(join(root, RESERVED_SEGMENT), { recursive: true, mode: 0o700 });
  await writeFile(runningMarker(root), '');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * A stopped scope's size, written when it stops, so listing thousands of
 * stopped scopes reads one small file each instead of walking their trees.
 */
const sizeFile = (root: string) => join(root, RESERVED_SEGMENT, 'stopped-size.json');

async function recordSizeAtStop(root: string, size: { files: number; bytes: number }): Promise<void> {
  // Best effort: without it, a listing walks the tree.
  await writeFile(sizeFile(root), JSON.stringify(size)).catch(() => undefined);
}

async function sizeAtStop(root: string): Promise<{ files: number; bytes: number } | undefined> {
  try {
    const size = JSON.parse(await readFile(sizeFile(root), 'utf8')) as { files?: unknown; bytes?: unknown };
    return Number.isSafeInteger(size.files) && Number.isSafeInteger(size.bytes) ? { files: size.files as number, bytes: size.bytes as number } : undefined;
  } catch {
    return undefined;
  }
}

// What scopefs itself keeps at the top of a root (not the scope's files).
const OWN_ENTRIES = new Set([RESERVED_SEGMENT, '.sync-status.json', '.sync-failures.json']);

/** Files and bytes under a stopped scope's root, outside scopefs's own entries. */
async function diskSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (at === dir && OWN_ENTRIES.has(entry.name)) continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        files++;
        bytes += (await stat(path).catch(() => ({ size: 0 }))).size;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}
