/**
 * The disk driver's low-level file operations: version tags, the checked
 * rename of a conditional write, reads that never follow a link and return
 * the version they read. Synchronous where the gap between a check and the
 * change it guards must be as small as the OS allows.
 */
import { constants, lstatSync, renameSync, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ScopeFsError, fsErrors } from '../../src/errors.js';
import type { VersionCondition, VersionTag, VersionedFile } from './types.js';

/** A validated virtual path and where it lives on disk. */
export interface Located {
  virtual: string;
  segments: string[];
  real: string;
}

/** How often a read is retried when the file changes while it is read. */
const READ_ATTEMPTS = 5;

/** A version tag from lstat/fstat: inode, size and mtime in nanoseconds. */
export function versionOf(stats: BigIntStats): VersionTag {
  return `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

/**
 * Stamps a file scopefs just wrote with a modification time a little before
 * the one the kernel gave it (its change time stays the kernel's). Kernels
 * before Linux 6.13 (and other systems) stamp files from a clock that ticks
 * every few milliseconds, so another program rewriting the file in place to
 * the same size within the same tick would leave inode, size and mtime, the
 * version tag, unchanged: its edit would go unseen and be replaced later.
 * Any later write is stamped at or after the kernel's time, so it now always
 * differs. A whole-second time means a filesystem that keeps seconds only:
 * it is set back by one second.
 */
export async function stampOwnWrite(handle: FileHandle): Promise<void> {
  const { atimeNs, mtimeNs } = await handle.stat({ bigint: true });
  const back = mtimeNs % 1_000_000_000n === 0n ? 1_000_000_000n : 1_000n;
  // utimes takes seconds as a double (sub-microsecond precision): whole microseconds, rounded down.
  await handle.utimes(Number(atimeNs / 1_000n) / 1e6, Number((mtimeNs - back) / 1_000n) / 1e6);
}

/** The version at `at` now (lstat, synchronous); null when absent. */
export function currentVersion(at: Located): VersionTag | null {
  const stats = lstatSync(at.real, { bigint: true, throwIfNoEntry: false });
  return stats ? versionOf(stats) : null;
}

/** False when the file is not the expected version; for a delete, nothing to do then but report. */
export function expectVersion(at: Located, condition: VersionCondition): boolean {
  const found = currentVersion(at);
  if (found === condition.ifVersion) return true;
  if (found === null) return false; // already gone: a conditional delete has nothing left to do
  throw changedOnDisk(at.virtual);
}

/** From this size on, a file about to lose its last name is held open first (holdWhileReplaced). */
const HOLD_FROM_BYTES = 1024 * 1024;

/**
 * Opens the file the condition expects at `at` when it is large, so that the
 * synchronous rename or unlink that takes its last name does not also free
 * its data: the kernel frees a file's pages when its last reference goes,
 * inside that system call (10-35 ms for 50 MiB here, the whole event loop
 * stalled). Held open, the file is freed when `letGo` closes the handle, in
 * the thread pool. Undefined for small or unknown files and on Windows
 * (where an open file may refuse the rename).
 */
export async function holdWhileReplaced(at: Located, condition: VersionCondition | undefined): Promise<FileHandle | undefined> {
  const tag = condition?.ifVersion;
  if (typeof tag !== 'string' || process.platform === 'win32') return undefined;
  if (Number(tag.split(':')[1]) < HOLD_FROM_BYTES) return undefined;
  return open(at.real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined); // gone or changed: nothing to hold
}

/** Closes a handle from holdWhileReplaced in the background (freeing the old file happens there). */
export function letGo(handle: FileHandle | undefined): void {
  void handle?.close().catch(() => undefined);
}

/**
 * The rename of a write, after checking its condition. The check and the
 * rename are synchronous and back to back: an outside write landing between
 * them (a few microseconds) is the one that can still be replaced; POSIX has
 * no compare-and-rename.
 */
export function checkedRename(from: string, at: Located, condition: VersionCondition | undefined): void {
  if (condition && currentVersion(at) !== condition.ifVersion) throw changedOnDisk(at.virtual);
  renameSync(from, at.real);
}

function changedOnDisk(virtual: string): Error {
  return new ScopeFsError('ESTALE', `${JSON.stringify(virtual)} changed on disk since scopefs last wrote or read it`, { path: virtual });
}

/**
 * Reads a file and its version without following a link at the leaf; null
 * when missing. A file rewritten in place while being read is read again.
 */
export async function readNoFollow(at: Located, maxBytes: number): Promise<VersionedFile | null> {
  for (let attempt = 1; ; attempt++) {
    const read = await readOnce(at, maxBytes);
    if (read === null || read.stable || attempt === READ_ATTEMPTS) return read && { content: read.content, version: read.version, modifiedAtMs: read.modifiedAtMs };
  }
}

async function readOnce(at: Located, maxBytes: number): Promise<(VersionedFile & { stable: boolean }) | null> {
  let handle;
  try {
    handle = await open(at.real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return null;
    if (hasCode(err, 'ELOOP')) {
      throw fsErrors.invalidPath(at.virtual, 'is a symbolic link, which the disk driver never follows');
    }
    throw err;
  }
  try {
    const before = await handle.stat({ bigint: true });
    if (before.isDirectory()) throw fsErrors.invalidPath(at.virtual, 'is a directory on disk');
    if (!before.isFile()) throw fsErrors.invalidPath(at.virtual, 'is not a regular file on disk');
    if (before.nlink > 1) throw hardLinkError(at.virtual);
    if (before.size > maxBytes) throw fsErrors.tooBig(at.virtual, Number(before.size), maxBytes);
    const content = await handle.readFile();
    const after = await handle.stat({ bigint: true });
    const version = versionOf(after);
    return { content, version, modifiedAtMs: Number(after.mtimeNs / 1_000_000n), stable: version === versionOf(before) };
  } finally {
    await handle.close();
  }
}

/**
 * A hard link may share its content with a file outside the root, and
 * nothing on the file says where the other names are; such files are never
 * indexed or read.
 */
export function hardLinkError(virtual: string): Error {
  return fsErrors.invalidPath(virtual, 'has more than one hard link, which could lead outside the root');
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** A catch handler that turns the given error codes into `undefined` and rethrows the rest. */
export function ignoreCode(...codes: string[]): (err: unknown) => undefined {
  return (err) => {
    if (codes.some((code) => hasCode(err, code))) return undefined;
    throw err;
  };
}
