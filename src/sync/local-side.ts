import { isScopeFsError } from '../errors.js';
import { sha256, sha256InChunks } from '../content.js';
import type { FileSystem } from '../types.js';

/** From this size on a local file's content is hashed in chunks. */
const LARGE_HASH_BYTES = 4 * 1024 * 1024;

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
 * are loaded once (the FileSystemServer keeps them loaded afterwards), and so
 * is a large write whose hash is still on its way (src/fs/large-content.ts).
 * A large content is hashed a chunk per turn, not in one stall.
 */
export async function readLocalFile(fs: FileSystem, path: string): Promise<LocalFile | null> {
  try {
    const meta = await fs.stat(path);
    const { revision, modifiedAt } = meta;
    if (meta.checksum !== undefined) return { hash: meta.checksum, revision, size: meta.size, modifiedAt };
    const content = (await fs.readFile(path, { encoding: 'bytes' })) as Uint8Array;
    const hash = content.byteLength >= LARGE_HASH_BYTES ? await sha256InChunks(content) : sha256(content);
    return { hash, revision, size: content.byteLength, modifiedAt, content };
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
