/**
 * The disk persistence driver: virtual path `/a/b.md` is the real file
 * `<root>/a/b.md`.
 *
 * - Writes are atomic: the bytes go to a temp file in `<root>/.scopefs/tmp/`,
 *   are fsynced, and the temp file is renamed over the target; the parent
 *   directory is then fsynced so the rename itself survives a power cut.
 *   Temp files live outside the user tree on purpose: a process killed
 *   mid-write leaves its temp file where `list` never looks, instead of a
 *   stray `a.md.123456` that would be indexed and synced as a user file
 *   (which is why we don't use write-file-atomic, whose temp files sit beside
 *   the target under names indistinguishable from real ones). Temp files of
 *   dead processes are swept when the driver starts.
 * - Symbolic links are never followed below the root: an operation whose path
 *   passes through a link, or names one, fails with EINVAL, and `list` skips
 *   links. (The root itself may be a link; it is resolved once at start.)
 * - `/.scopefs/` is reserved for engine state (journal, temp files) and is
 *   neither listed nor writable through the driver.
 * - It is a versioned driver: every file has a version tag (inode, size,
 *   mtime in ns), and writes and deletes can be conditional on it, so the
 *   FileSystemServer never replaces a file another program changed (see
 *   disk-io.ts for the checked rename and its remaining window).
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { lstat, mkdir, open, opendir, realpath, rmdir, unlink } from 'node:fs/promises';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import PQueue from 'p-queue';
import { ScopeFsError, errorMessage, fsErrors, isScopeFsError } from '../../src/errors.js';
import { normalizePath, normalizePrefix } from '../../src/paths.js';
import { makePrivateDir } from '../../src/private-files.js';
import {
  checkedRename,
  expectVersion,
  fsyncDir,
  hardLinkError,
  hasCode,
  holdWhileReplaced,
  ignoreCode,
  letGo,
  readNoFollow,
  stampOwnWrite,
  versionOf,
  type Located,
} from './disk-io.js';
import { listTree } from './disk-listing.js';
import type { ListOptions, ReadLimit, StoredFileMeta, VersionCondition, VersionTag, VersionedDriver, VersionedFile } from './types.js';

export interface DiskDriverOptions {
  /** Directory holding the files; created when missing. */
  root: string;
  /** fsync files and directories on every change (default true). Off only for tests and benchmarks. */
  fsync?: boolean;
  name?: string;
}

/** The first segment reserved for engine-internal state. */
export const INTERNAL_DIR = '.scopefs';
const TEMP_DIR = join(INTERNAL_DIR, 'tmp');
const WRITE_MANY_CONCURRENCY = 8;
export class DiskDriver implements VersionedDriver {
  readonly name: string;
  private readonly configuredRoot: string;
  private readonly fsync: boolean;
  private rootPromise: Promise<string> | undefined;
  /** The resolved root once prepared (assertPersistable is synchronous). */
  private preparedRoot: string | undefined;
  private tempCounter = 0;

  constructor(options: DiskDriverOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw fsErrors.invalid('DiskDriver needs a root directory');
    }
    this.configuredRoot = resolve(options.root);
    this.fsync = options.fsync ?? true;
    this.name = options.name ?? `disk:${this.configuredRoot}`;
  }

  /**
   * Atomic replace, optionally as a compare-and-swap: with a condition, the
   * target is checked right before the rename (both synchronous, back to
   * back) and left alone when it is not the expected version.
   */
  async write(path: string, content: Uint8Array, condition?: VersionCondition): Promise<VersionTag> {
    const at = await this.locate(path);
    return this.guard('write', at.virtual, async (root) => {
      await this.refuseLinks(root, at, { leaf: true });
      return this.atomicReplace(root, at, content, condition);
    });
  }

  async writeMany(items: ReadonlyArray<{ path: string; content: Uint8Array }>): Promise<void> {
    const queue = new PQueue({ concurrency: WRITE_MANY_CONCURRENCY });
    const results = await Promise.allSettled(items.map((item) => queue.add(() => this.write(item.path, item.content))));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  async load(path: string): Promise<Uint8Array | null> {
    return (await this.read(path))?.content ?? null;
  }

  async read(path: string, options: ReadLimit = {}): Promise<VersionedFile | null> {
    const at = await this.locate(path);
    return this.guard('read', at.virtual, async (root) => {
      if ((await this.refuseLinks(root, at, { leaf: false })) === 'missing') return null;
      return readNoFollow(at, options.maxBytes ?? Number.POSITIVE_INFINITY);
    });
  }

  async version(path: string): Promise<VersionTag | null> {
    const at = await this.locate(path);
    return this.guard('stat', at.virtual, async (root) => {
      if ((await this.refuseLinks(root, at, { leaf: false })) === 'missing') return null;
      const stats = await lstat(at.real, { bigint: true }).catch(ignoreCode('ENOENT', 'ENOTDIR'));
      if (!stats) return null;
      if (stats.isSymbolicLink()) throw fsErrors.invalidPath(at.virtual, 'is a symbolic link, which the disk driver never follows');
      if (!stats.isFile()) throw fsErrors.invalidPath(at.virtual, 'is not a regular file on disk');
      if (stats.nlink > 1) throw hardLinkError(at.virtual);
      return versionOf(stats);
    });
  }

  async delete(path: string, condition?: VersionCondition): Promise<void> {
    const at = await this.locate(path);
    await this.guard('delete', at.virtual, async (root) => {
      if ((await this.refuseLinks(root, at, { leaf: true })) === 'missing') return;
      if (condition) {
        const held = await holdWhileReplaced(at, condition);
        try {
          // Check and unlink back to back, like the rename of a conditional write.
          if (!expectVersion(at, condition)) return;
          unlinkSync(at.real);
        } catch (err) {
          if (!hasCode(err, 'ENOENT')) throw err;
        } finally {
          letGo(held);
        }
      } else {
        await unlink(at.real).catch(ignoreCode('ENOENT'));
      }
      await this.pruneEmptyParents(root, at.segments);
    });
  }

  assertPersistable(path: string): void {
    const virtual = normalizePath(path);
    const segments = virtual.slice(1).split('/');
    refuseInternal(virtual, segments);
    const root = this.preparedRoot ?? this.configuredRoot;
    const real = join(root, ...segments);
    if (Buffer.byteLength(real) >= PATH_MAX) {
      throw fsErrors.invalidPath(virtual, `its disk path would be ${Buffer.byteLength(real)} bytes, over the platform limit of ${PATH_MAX - 1}; use a shorter path`);
    }
    let current = root;
    for (const [i, segment] of segments.entries()) {
      current = join(current, segment);
      const stats = lstatSync(current, { throwIfNoEntry: false });
      if (!stats) return; // nothing below a missing component can be in the way
      const leaf = i === segments.length - 1;
      const shown = `/${segments.slice(0, i + 1).join('/')}`;
      if (stats.isSymbolicLink()) {
        throw fsErrors.invalidPath(virtual, `${JSON.stringify(shown)} is a symbolic link on disk, which scopefs never writes through; remove the link or pick another path`);
      }
      if (!leaf && !stats.isDirectory()) {
        throw fsErrors.invalidPath(virtual, `${JSON.stringify(shown)} is a file on disk, not a directory; pick another path`);
      }
      if (leaf && !stats.isFile()) {
        throw fsErrors.invalidPath(virtual, `it is ${stats.isDirectory() ? 'a directory' : 'not a regular file'} on disk; pick another path`);
      }
      if (leaf && stats.nlink > 1) throw hardLinkError(virtual);
    }
  }

  async move(from: string, to: string): Promise<void> {
    const source = await this.locate(from);
    const target = await this.locate(to);
    await this.guard('move', source.virtual, async (root) => {
      if ((await this.refuseLinks(root, source, { leaf: true })) === 'missing') throw fsErrors.notFound(source.virtual);
      await this.refuseLinks(root, target, { leaf: true });
      await this.renameInto(root, source.real, target, { ifVersion: null });
      await this.pruneEmptyParents(root, source.segments);
    });
  }

  async list(prefix?: string, options: ListOptions = {}): Promise<StoredFileMeta[]> {
    const under = normalizePrefix(prefix);
    const segments = under === '/' ? [] : under.slice(1, -1).split('/');
    refuseInternal(under, segments);
    return this.guard('list', under, async (root) => {
      const dir: Located = { virtual: under, segments, real: join(root, ...segments) };
      if ((await this.refuseLinks(root, dir, { leaf: true })) === 'missing') return [];
      return listTree(dir.real, under, options.onSkipped ?? (() => undefined));
    });
  }

  /** The real root: created when missing, resolved once; stale temp files swept. */
  private root(): Promise<string> {
    this.rootPromise ??= this.prepareRoot();
    return this.rootPromise;
  }

  private async prepareRoot(): Promise<string> {
    try {
      await mkdir(this.configuredRoot, { recursive: true });
      const root = await realpath(this.configuredRoot);
      makePrivateDir(join(root, TEMP_DIR));
      await sweepDeadTempFiles(join(root, TEMP_DIR));
      this.preparedRoot = root;
      return root;
    } catch (err) {
      this.rootPromise = undefined; // let a later call retry (e.g. after a mount comes back)
      throw new ScopeFsError('EIO', `cannot prepare disk root ${JSON.stringify(this.configuredRoot)}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  private async locate(path: string): Promise<Located> {
    const virtual = normalizePath(path);
    const segments = virtual.slice(1).split('/');
    refuseInternal(virtual, segments);
    const root = await this.root();
    const real = join(root, ...segments);
    // Belt and braces: normalizePath already rules out `..`, so this cannot trigger.
    const rel = relative(root, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw fsErrors.invalidPath(virtual, 'resolves outside the root');
    }
    return { virtual, segments, real };
  }

  /** Runs a driver operation, turning unexpected failures into EIO naming the path. */
  private async guard<T>(op: string, virtual: string, body: (root: string) => Promise<T>): Promise<T> {
    const root = await this.root();
    try {
      return await body(root);
    } catch (err) {
      if (isScopeFsError(err)) throw err;
      throw new ScopeFsError('EIO', `disk ${op} of ${JSON.stringify(virtual)} failed: ${errorMessage(err)}`, {
        path: virtual,
        cause: err,
      });
    }
  }

  /**
   * Checks each existing component below the root (and the leaf itself when
   * `leaf`) with lstat, refusing symbolic links. Returns `missing` as soon as a
   * component does not exist, since nothing below it can be a link.
   */
  private async refuseLinks(root: string, at: Located, options: { leaf: boolean }): Promise<'present' | 'missing'> {
    const count = options.leaf ? at.segments.length : at.segments.length - 1;
    let current = root;
    for (let i = 0; i < count; i++) {
      current = join(current, at.segments[i]!);
      const stats = await lstat(current).catch(ignoreCode('ENOENT'));
      if (!stats) return 'missing';
      if (stats.isSymbolicLink()) {
        const shown = `/${at.segments.slice(0, i + 1).join('/')}`;
        throw fsErrors.invalidPath(at.virtual, `${JSON.stringify(shown)} is a symbolic link, which the disk driver never follows`);
      }
    }
    return 'present';
  }

  /** Returns the version written: the temp file's identity, which the rename keeps. */
  private async atomicReplace(root: string, at: Located, content: Uint8Array, condition?: VersionCondition): Promise<VersionTag> {
    const temp = join(root, TEMP_DIR, `${process.pid}-${++this.tempCounter}-${randomBytes(6).toString('hex')}`);
    try {
      let version: VersionTag;
      const handle = await openTemp(root, temp);
      try {
        await handle.writeFile(content);
        await stampOwnWrite(handle);
        if (this.fsync) await handle.sync();
        version = versionOf(await handle.stat({ bigint: true }));
      } finally {
        await handle.close();
      }
      await this.renameInto(root, temp, at, condition);
      return version;
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Renames `from` onto `at`, creating parent directories, then makes the
   * rename durable. With a condition, throws ESTALE (renaming nothing) when
   * the target is not the expected version.
   */
  private async renameInto(root: string, from: string, at: Located, condition?: VersionCondition): Promise<void> {
    const parent = join(root, ...at.segments.slice(0, -1));
    await mkdir(parent, { recursive: true });
    const held = await holdWhileReplaced(at, condition);
    try {
      checkedRename(from, at, condition);
    } catch (err) {
      // A concurrent delete may have pruned the freshly created parent; make it again once.
      if (!hasCode(err, 'ENOENT')) throw err;
      await mkdir(parent, { recursive: true });
      checkedRename(from, at, condition);
    } finally {
      letGo(held);
    }
    if (this.fsync) await fsyncDir(parent);
  }

  /** Removes directories left empty by a delete or move, up to (not including) the root. */
  private async pruneEmptyParents(root: string, segments: string[]): Promise<void> {
    for (let depth = segments.length - 1; depth > 0; depth--) {
      const dir = join(root, ...segments.slice(0, depth));
      const removed = await rmdir(dir).then(
        () => true,
        () => false, // not empty (or already gone): stop climbing
      );
      if (!removed) {
        if (this.fsync) await fsyncDir(dir).catch(() => undefined);
        return;
      }
    }
    if (this.fsync) await fsyncDir(root);
  }
}

function refuseInternal(virtual: string, segments: string[]): void {
  if (segments[0]?.toLowerCase() === INTERNAL_DIR) {
    throw fsErrors.invalidPath(virtual, `"/${INTERNAL_DIR}/" is reserved for engine state`);
  }
}

/**
 * The largest path the kernel accepts, terminating NUL included (Linux and
 * most Unixes; macOS uses 1024, where longer paths fail at write time).
 */
const PATH_MAX = 4096;
/** Creates a temp file; the temp directory is made again when someone removed it (or the whole root). */
async function openTemp(root: string, temp: string) {
  try {
    return await open(temp, 'wx');
  } catch (err) {
    if (!hasCode(err, 'ENOENT')) throw err;
    makePrivateDir(join(root, TEMP_DIR));
    return open(temp, 'wx');
  }
}

/** Deletes temp files whose writing process no longer exists. */
async function sweepDeadTempFiles(tempDir: string): Promise<void> {
  const dir = await opendir(tempDir);
  for await (const entry of dir) {
    const pid = Number.parseInt(entry.name, 10);
    if (Number.isInteger(pid) && !isAlive(pid)) await unlink(join(tempDir, entry.name)).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasCode(err, 'EPERM'); // exists, owned by someone else
  }
}

