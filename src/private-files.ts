/**
 * scopefs' own state (SQLite stores, the sync state, the journal, tokens)
 * holds every file's content and sometimes credentials, so it is the owner's
 * alone: files 0600, `.scopefs/` directories 0700. A mode given to `open` or
 * `mkdir` only applies to what they create, so state an older version (or a
 * loose umask) left readable by others is tightened when it is opened.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { RESERVED_SEGMENT } from './paths.js';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** The files SQLite keeps beside a database; it gives new ones the database's own mode. */
export const SQLITE_SIDECARS = ['-wal', '-shm', '-journal'] as const;

/** Creates `dir` (parents with the usual mode) as 0700, or tightens it when it exists. */
export function makePrivateDir(dir: string): void {
  // Tried first (one call when the parent is there); created with the mode, it has nothing to tighten.
  const made = (): boolean => {
    try {
      mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  };
  let created: boolean;
  try {
    created = made();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(dir), { recursive: true });
    created = made();
  }
  if (!created) tighten(dir, PRIVATE_DIR_MODE);
}

/** makePrivateDir without blocking the event loop (a scope's start path). */
export async function makePrivateDirAsync(dir: string): Promise<void> {
  const made = async (): Promise<boolean> => {
    try {
      await mkdir(dir, { mode: PRIVATE_DIR_MODE });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  };
  let created: boolean;
  try {
    created = await made();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(dir), { recursive: true });
    created = await made();
  }
  if (created) return; // created with the mode: nothing to tighten
  try {
    if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, PRIVATE_DIR_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}

/**
 * Makes the directory a state file lives in, 0700 when it is new. An
 * existing `.scopefs` folder is tightened; any other existing folder (where
 * the user chose to put a store or a token) is the user's and left as it is.
 */
export function makeStateDirFor(file: string): void {
  const dir = dirname(file);
  if (basename(dir).toLowerCase() === RESERVED_SEGMENT) makePrivateDir(dir);
  else mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates `file` empty as 0600 when it is missing (never truncating it), and
 * tightens it and any of its `sidecars` (`file + suffix`) that exist.
 */
export function makePrivateFile(file: string, sidecars: readonly string[] = []): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  tighten(file, PRIVATE_FILE_MODE);
  for (const suffix of sidecars) tighten(file + suffix, PRIVATE_FILE_MODE);
}

/** Drops the group and other bits of `path`; a missing path, or one owned by another user, is left alone. */
function tighten(path: string, mode: number): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}
