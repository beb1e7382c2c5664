/**
 * Moves dirty state to the drivers. Driver I/O runs outside the actor's
 * mailbox, so a slow disk never delays the next write. Operations on one
 * location run in the order they were decided (a write, then a delete of the
 * same file, can never land the other way round; a move's delete of the old
 * copy waits for the write of the new one), while operations on different
 * locations run in parallel, up to PARALLEL_IO at a time: an initial sync of
 * thousands of files is not one long single file. Each operation snapshots
 * what it writes when it is queued.
 *
 * Completion bookkeeping (clearing `dirty`, scheduling a retry) is
 * synchronous and checks the revision it wrote, so it is safe to run between
 * actor handlers: a newer change is never marked clean by an older write.
 *
 * On a versioned driver (the disk) every write and delete is conditional on
 * the path's disk base, read when the operation runs; one that finds another
 * version there is not retried but reported (`onDiverged`), and the server
 * reconciles the path (disk-replica.ts).
 */
import PQueue from 'p-queue';
import { isVersioned, type VersionedFile } from '../../persistence/drivers/types.js';
import { errorMessage, isScopeFsError } from '../errors.js';
import type { FlushResult } from '../types.js';
import { locationKey, type ConfigTable, type Location } from './configs.js';
import type { DiskBases } from './disk-bases.js';
import { checksumSoon, putOp, type Entry, type EntryTable } from './entries.js';
import type { JournalOp } from './journal-codec.js';
import type { PersistScheduler } from './persist-scheduler.js';
import { settleDelay } from './settling.js';

/** Resolves to undefined on success, or to the error message. */
export type Outcome = Promise<string | undefined>;

interface Tombstone {
  path: string;
  location: Location;
  /** Location key whose queued operations must finish first. */
  after?: string;
  running?: Outcome;
}

/** Scheduler keys of pending deletes; NUL never occurs in a valid path, so they never collide with one. */
const DELETE_KEY = '\u0000delete:';

const noop = (): void => undefined;

export interface PersisterDeps {
  entries: EntryTable;
  configs: ConfigTable;
  scheduler: PersistScheduler;
  /** What scopefs last wrote or read per path on versioned drivers; every write and delete there is conditional on it. */
  bases: DiskBases;
  /** Called after every finished driver operation, success or not. */
  onSettled: () => void;
  /** A conditional write or delete found another version there: reconcile instead of retrying. */
  onDiverged: (path: string) => void;
  /** The driver refused the path for good (EINVAL: a link or a directory in the way): report, don't retry. */
  onRefused: (path: string, reason: string) => void;
}

/** What a disk check found: nothing new, the file as it is now, or why it cannot be read as a file. */
export type DiskCheck =
  | { found: 'base' }
  | { found: 'file'; file: VersionedFile | null; generation: number }
  | { found: 'refused'; reason: string };

/** Driver operations in flight at once (different locations only). */
const PARALLEL_IO = 16;
/**
 * A disk check goes ahead of queued writes to other locations (it still runs
 * after those of its own): an outside edit made while a pull's 10,000 writes
 * are queued is looked at in milliseconds, not once they have all landed.
 */
const CHECK_PRIORITY = 1;
/** How long to wait before reading `file` again (settling.ts; 0: take it as it is); `since` is when the check first read it. */
function settleDelayOf(file: VersionedFile | null, since: number): number {
  return file?.modifiedAtMs === undefined ? 0 : settleDelay(file.modifiedAtMs, since);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Persister {
  private readonly queue = new PQueue({ concurrency: PARALLEL_IO });
  /** The last queued operation per location key: the next one on that key waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly writes = new Map<string, { revision: number; done: Outcome }>();
  /** Locations whose file must be deleted, by location key. */
  private readonly tombstones = new Map<string, Tombstone>();
  private closed = false;

  constructor(private readonly deps: PersisterDeps) {}

  /** Whether anything is not yet in the drivers: dirty entries or pending deletes. */
  get hasPending(): boolean {
    return this.deps.entries.dirtyCount > 0 || this.tombstones.size > 0;
  }

  /** Writes the entry at `path` now, if it is dirty (after any driver operation already queued). */
  persist(path: string): Outcome {
    const { entries, configs, scheduler } = this.deps;
    const entry = entries.get(path);
    if (!entry?.dirty) return Promise.resolve(undefined);
    const location = configs.locate(path);
    const content = entry.content;
    if (!location || location.config.readonly || !content) {
      entries.setDirty(entry, false); // nothing can or needs to be written
      return Promise.resolve(undefined);
    }
    scheduler.cancel(path);
    const running = this.writes.get(path);
    if (running?.revision === entry.revision) return running.done;
    const revision = entry.revision;
    const soon = checksumSoon(entry as Entry & { content: Uint8Array });
    const job = { revision, done: Promise.resolve<string | undefined>(undefined) };
    const { driver } = location.config;
    job.done = this.run(
      [locationKey(location)],
      async () => {
        if (!isVersioned(driver)) return void (await driver.write(location.driverPath, content));
        // Known before the write lands: a large write's hash may still be on its way, and the base must be whole
        // the moment the disk holds the new version (the watcher compares the next disk change against it).
        const hash = await soon;
        // The condition is read when the write runs: the writes before it on this path have moved the base.
        const version = await driver.write(location.driverPath, content, { ifVersion: this.deps.bases.get(path).version });
        this.deps.bases.set(path, { version, hash, content });
      },
      () => this.written(path, revision, job),
      (err) => this.writeFailed(path, job, err),
    );
    this.writes.set(path, job);
    return job.done;
  }

  /**
   * Records that the file at `location` (virtual path `path`) must go, and
   * deletes it now: after anything already queued for `after` too (a move
   * deletes the old copy only once the new one is written).
   */
  remove(path: string, location: Location, after?: Location): Outcome {
    if (location.config.readonly) return Promise.resolve(undefined);
    const key = this.planRemove(path, location, after);
    return this.runDelete(key);
  }

  /** Records a pending delete without starting it (a flush or a timer runs it). Returns its location key. */
  planRemove(path: string, location: Location, after?: Location): string {
    const key = locationKey(location);
    if (!location.config.readonly) this.tombstones.set(key, { path, location, after: after && locationKey(after) });
    return key;
  }

  /** A new file at `location` supersedes a pending delete there (its write is queued after the delete). */
  cancelRemove(location: Location | undefined): void {
    if (!location) return;
    const key = locationKey(location);
    this.tombstones.delete(key);
    this.deps.scheduler.forget(DELETE_KEY + key);
  }

  /**
   * Reads what the versioned driver holds at `path`, in turn with the writes
   * and deletes of that location, so it never sees one half done. Reads only
   * the version when that is the base.
   */
  check(path: string, location: Location): Promise<DiskCheck> {
    const { driver } = location.config;
    let result: DiskCheck = { found: 'base' };
    const done = this.run(
      [locationKey(location)],
      async () => {
        if (!isVersioned(driver)) return;
        try {
          const version = await driver.version(location.driverPath);
          if (version !== null && version === this.deps.bases.get(path).version) return;
          const generation = this.deps.bases.generation(path);
          const limit = { maxBytes: location.config.maxFileBytes };
          let file = await driver.read(location.driverPath, limit);
          // A file another program may still be writing is read again once still (settling.ts). Our own
          // writes to this location wait behind this check, so none can replace the file meanwhile.
          for (let since = Date.now(), wait = settleDelayOf(file, since); wait > 0; wait = settleDelayOf(file, since)) {
            await sleep(wait);
            file = await driver.read(location.driverPath, limit);
          }
          result = { found: 'file', file, generation };
        } catch (err) {
          // What can never be taken in is left alone on disk, with its base unchanged, so no write replaces it.
          if (!isScopeFsError(err, 'EINVAL') && !isScopeFsError(err, 'EFBIG')) throw err;
          result = { found: 'refused', reason: err.message };
        }
      },
      noop,
      noop,
      CHECK_PRIORITY,
    );
    return done.then((error) => {
      if (error !== undefined) throw new Error(error);
      return result;
    });
  }

  /** A scheduler timer fired for `key`. */
  due(key: string): void {
    if (key.startsWith(DELETE_KEY)) void this.runDelete(key.slice(DELETE_KEY.length));
    else void this.persist(key);
  }

  /** Persists every dirty entry and runs every pending delete, timers or not. */
  async flush(): Promise<FlushResult> {
    const jobs: Array<Promise<[string, string | undefined]>> = [];
    for (const [key, tombstone] of this.tombstones) {
      jobs.push(this.runDelete(key).then((error) => [tombstone.path, error]));
    }
    for (const path of this.deps.entries.dirty()) {
      jobs.push(this.persist(path).then((error) => [path, error]));
    }
    const result: FlushResult = { flushed: [], failed: [] };
    for (const [path, error] of await Promise.all(jobs)) {
      if (error === undefined) result.flushed.push(path);
      else result.failed.push({ path, error });
    }
    return result;
  }

  /** What a fresh journal must hold: every pending delete, then every dirty entry. */
  pendingOps(): JournalOp[] {
    const ops: JournalOp[] = [];
    for (const { path } of this.tombstones.values()) ops.push({ op: 'delete', path });
    for (const path of this.deps.entries.dirty()) {
      const entry = this.deps.entries.get(path);
      if (entry?.content) ops.push(putOp(entry));
    }
    return ops;
  }

  /** Resolves once every queued driver operation has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Forgets pending deletes (after a reset has flushed them). */
  clear(): void {
    this.tombstones.clear();
  }

  /** No more retries are scheduled after this (the server is stopping). */
  close(): void {
    this.closed = true;
  }

  private runDelete(key: string): Outcome {
    const tombstone = this.tombstones.get(key);
    if (!tombstone) return Promise.resolve(undefined);
    this.deps.scheduler.cancel(DELETE_KEY + key);
    if (tombstone.running) return tombstone.running;
    const { driver } = tombstone.location.config;
    const { path } = tombstone;
    const keys = tombstone.after === undefined ? [key] : [key, tombstone.after];
    tombstone.running = this.run(
      keys,
      async () => {
        if (!isVersioned(driver)) return driver.delete(tombstone.location.driverPath);
        await driver.delete(tombstone.location.driverPath, { ifVersion: this.deps.bases.get(path).version });
        this.deps.bases.set(path, { version: null });
      },
      () => {
        if (this.tombstones.get(key) === tombstone) this.tombstones.delete(key);
        this.deps.scheduler.succeeded(DELETE_KEY + key);
      },
      (err) => {
        tombstone.running = undefined;
        if (this.tombstones.get(key) !== tombstone) return;
        if (isScopeFsError(err, 'ESTALE')) this.deps.onDiverged(path);
        else this.retry(DELETE_KEY + key);
      },
    );
    return tombstone.running;
  }

  /**
   * Queues a driver operation behind the earlier operations on the same
   * location keys (a higher `priority` only overtakes other locations'), and
   * runs the bookkeeping for its outcome.
   */
  private run(keys: string[], operation: () => Promise<void>, onSuccess: () => void, onFailure: (err: unknown) => void, priority = 0): Outcome {
    const before = keys.map((key) => this.tails.get(key)).filter((tail) => tail !== undefined);
    const add = () => this.queue.add(operation, { priority });
    const started = before.length === 0 ? add() : Promise.all(before).then(add);
    const settled = started.then(noop, noop);
    for (const key of keys) this.tails.set(key, settled);
    this.inFlight.add(settled);
    void settled.then(() => {
      this.inFlight.delete(settled);
      for (const key of keys) if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return started.then(
      () => {
        onSuccess();
        this.deps.onSettled();
        return undefined;
      },
      (err: unknown) => {
        onFailure(err);
        this.deps.onSettled();
        return errorMessage(err);
      },
    );
  }

  private written(path: string, revision: number, job: { revision: number }): void {
    if (this.writes.get(path) === job) this.writes.delete(path);
    const entry = this.deps.entries.get(path);
    if (entry && entry.revision === revision) this.deps.entries.setDirty(entry, false);
    this.deps.scheduler.succeeded(path);
  }

  private writeFailed(path: string, job: { revision: number }, err: unknown): void {
    if (this.writes.get(path) === job) this.writes.delete(path);
    if (!this.deps.entries.get(path)?.dirty) return;
    // The entry stays dirty (and in the journal) in every case; what differs is what happens next.
    if (isScopeFsError(err, 'ESTALE')) this.deps.onDiverged(path);
    else if (isScopeFsError(err, 'EINVAL')) this.deps.onRefused(path, err.message);
    else this.retry(path);
  }

  /** Schedules a retry with backoff, unless a timer (say, a newer debounce) is already pending. */
  private retry(key: string): void {
    if (this.closed || this.deps.scheduler.has(key)) return;
    this.deps.scheduler.retryLater(key);
  }
}
