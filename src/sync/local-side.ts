import { isScopeFsError } from '../errors.js';
import { sha256 } from '../content.js';
import type { FileSystem } from '../types.js';

/** What the engine knows about a path's local file at one moment. */
export interface LocalFile {
  hash: string;
  /** FileSystemServer revision, used as compare-and-swap guard for writes from sync. */
  revision: number;
  size: number;
  /** When the file was last modified (ms since the epoch): the `newest` conflict strategy compares it. */
  modifiedAt: number;
  /** Present when the content had to be loaded to hash it. */
  content?: Uint8Array;
}

/**
 * Reads the local side of a path: its hash and revision, or null when the
 * file does not exist. Files already in memory carry their checksum; others
 * are loaded once (the FileSystemServer keeps them loaded afterwards).
 */
export async function readLocalFile(fs: FileSystem, path: string): Promise<LocalFile | null> {
  try {
    const meta = await fs.stat(path);
    const { revision, modifiedAt } = meta;
    if (meta.checksum !== undefined) return { hash: meta.checksum, revision, size: meta.size, modifiedAt };
    const content = await fs.readFile(path, { encoding: 'bytes' });
    return { hash: sha256(content), revision, size: content.byteLength, modifiedAt, content };
  } catch (err) {
    if (isScopeFsError(err, 'ENOENT')) return null;
    throw err;
  }
}

/** The content of a local file, or null when it vanished meanwhile. */
export async function readLocalContent(fs: FileSystem, path: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(path, { encoding: 'bytes' });
  } catch (err) {
    if (isScopeFsError(err, 'ENOENT')) return null;
    throw err;
  }
}
