import { lstatSync, type BigIntStats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Actor, type ActorCallbacks } from '../../supervisors/runtime/actor.js';
import { versionOf } from '../../persistence/drivers/disk-io.js';
import { isScopeFsError } from '../errors.js';
import { settleDelay } from '../fs/settling.js';
import type { FileSystem } from '../types.js';
import { DirectoryWatches } from './directory-watches.js';
import { isEngineStatusFile } from './engine-files.js';

/**
 * What the server can say without a message: the version (inode, size,
 * mtime) it last wrote or read at a disk path (its disk base), undefined when
 * it holds none or cannot say now (restarting).
 */
export interface OwnDiskVersions {
  ownDiskVersion?(name: string): string | undefined;
}

/** Paths looked at between two turns of the event loop (a few milliseconds of lstat). */
const YIELD_EVERY = 256;

/** The watcher's one message: the paths that changed, gathered over a few milliseconds. */
export type DiskWatcherCast = { type: 'disk_changes'; absolutePaths: string[] };

/**
 * Tells the FileSystemServer about every change other programs make under
 * the root (an editor, a shell), with `checkDisk`. The server decides: its
 * own writes are recognised by their version (the disk base), an outside
 * edit is merged with memory or kept beside it, and names it cannot take in
 * are reported. The watcher itself holds no state about files, only the
 * directory watches (`DirectoryWatches`: one per directory, not per file).
 *
 * The echo of the server's own write (a pull writes thousands) is dropped
 * here, for one lstat: a regular file whose version is the one the server
 * recorded when it wrote it is, by that identity, the file it wrote (its
 * writes are stamped so that no later write can keep that identity, see
 * `stampOwnWrite`). It costs no message to the server, no read, no hash, and
 * no wait for the file to settle. Anything else goes to `checkDisk`.
 */
export class DiskWatcher implements ActorCallbacks<never, DiskWatcherCast> {
  actor!: Actor<never, DiskWatcherCast>;
  private readonly watches: DirectoryWatches;
  /** Files whose look is put off because they were still changing, with when that began. */
  private readonly deferredSince = new Map<string, number>();
  /** The root as the watches spell it, with a trailing separator. */
  private readonly rootPrefix: string;

  constructor(
    private readonly fs: FileSystem & OwnDiskVersions,
    private readonly root: string,
  ) {
    this.rootPrefix = join(root, sep);
    this.watches = new DirectoryWatches(
      root,
      (absolutePaths) => this.actor.cast({ type: 'disk_changes', absolutePaths }),
      (absolutePath) => this.diskName(absolutePath) === null && absolutePath !== root,
    );
  }

  static async start(fs: FileSystem & OwnDiskVersions, root: string): Promise<DiskWatcher> {
    const watcher = new DiskWatcher(fs, root);
    watcher.actor = new Actor<never, DiskWatcherCast>(watcher, { name: 'disk-watcher' });
    await watcher.actor.start();
    return watcher;
  }

  init(): Promise<void> {
    return this.watches.start();
  }

  handleCall(): never {
    throw new Error('the disk watcher takes no calls');
  }

  /** One batch at a time, each path handed over before the next is looked at. */
  async handleCast(message: DiskWatcherCast): Promise<void> {
    let looked = 0;
    for (const absolutePath of message.absolutePaths) {
      const name = this.diskName(absolutePath);
      if (name !== null) await this.look(name, absolutePath);
      // Echoes are dropped without any I/O wait: let timers and I/O in now and then in a batch of thousands.
      if (++looked % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  terminate(): void {
    this.watches.close();
  }

  /**
   * A file is checked by name. A directory that appeared is watched, and its
   * files come back as changes of their own; one that went away takes every
   * file the server has under it.
   */
  private async look(name: string, absolutePath: string): Promise<void> {
    const stats = lstatOrNothing(absolutePath);
    if (stats?.isFile() && this.isOwnWrite(name, stats)) return void this.deferredSince.delete(absolutePath);
    if (stats?.isFile() && this.stillBeingWritten(absolutePath, Number(stats.mtimeMs))) return;
    if (stats?.isDirectory()) {
      await this.watches.add(absolutePath);
      return;
    }
    if (!stats && this.watches.isWatched(absolutePath)) this.watches.remove(absolutePath);
    await this.fs.checkDisk(name);
    if (!stats) for (const path of await this.knownUnder(name)) await this.fs.checkDisk(path);
  }

  /** The file is the version the server last wrote or read there (one link only: a hard link is for the server to refuse). */
  private isOwnWrite(name: string, stats: BigIntStats): boolean {
    return stats.nlink === 1n && this.fs.ownDiskVersion?.(name) === versionOf(stats);
  }

  /**
   * True (and a second look scheduled) when the file may still be half
   * written (src/fs/settling.ts): changed a moment ago, and not put off for
   * long already. As chokidar's awaitWriteFinish did, but with one lstat
   * instead of polling.
   */
  private stillBeingWritten(absolutePath: string, mtimeMs: number): boolean {
    const now = Date.now();
    const wait = settleDelay(mtimeMs, this.deferredSince.get(absolutePath) ?? now, now);
    if (wait === 0) {
      this.deferredSince.delete(absolutePath);
      return false;
    }
    if (!this.deferredSince.has(absolutePath)) this.deferredSince.set(absolutePath, now);
    const again = () => this.actor.cast({ type: 'disk_changes', absolutePaths: [absolutePath] });
    setTimeout(again, Math.ceil(wait)).unref();
    return true;
  }

  private async knownUnder(name: string): Promise<string[]> {
    try {
      return await this.fs.listFiles(`${name}/`);
    } catch (err) {
      if (isScopeFsError(err, 'EINVAL')) return []; // a name the server cannot hold has nothing under it
      throw err;
    }
  }

  /** The path as named on disk (not normalised: the server reports names it cannot take in), or null for engine files. */
  private diskName(absolutePath: string): string | null {
    // The watches name paths by joining onto the root, so a prefix is enough; anything else the long way.
    const rel = absolutePath.startsWith(this.rootPrefix) ? absolutePath.slice(this.rootPrefix.length) : relative(this.root, absolutePath);
    if (rel === '' || rel.startsWith('..')) return null;
    const name = `/${rel.split(sep).join('/')}`;
    // Engine state (the journal, sync state, temp files) and the status files the engine writes itself.
    if (name === '/.scopefs' || name.startsWith('/.scopefs/') || isEngineStatusFile(name)) return null;
    return name;
  }
}

/**
 * lstat, synchronously: the file was just named by an event, so its inode is
 * in the kernel's cache and this takes microseconds, where the asynchronous
 * call would take a turn of the thread pool the server's own writes are
 * waiting for (10,000 of them in a pull). Undefined when it is gone or
 * cannot be looked at.
 */
function lstatOrNothing(absolutePath: string): BigIntStats | undefined {
  try {
    return lstatSync(absolutePath, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, EACCES, ...: as good as gone for the watcher; the server finds out why
  }
}
