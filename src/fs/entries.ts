/**
 * The in-memory file table: one Entry per file, a set of the dirty ones, and
 * a count of files under each directory so a write that would turn a file
 * into a directory (or the reverse) is refused up front instead of failing
 * forever when a disk driver tries to persist it.
 */
import { sha256 } from '../content.js';
import { ScopeFsError } from '../errors.js';
import { dirname, isUnder } from '../paths.js';
import type { EntryMeta } from '../types.js';
import type { JournalOp } from './journal-codec.js';

export interface Entry {
  path: string;
  /** Undefined until a persisted file is loaded. */
  content: Uint8Array | undefined;
  /** The content decoded as UTF-8, cached on first text read (or kept from a string write). */
  text: string | undefined;
  size: number;
  createdAt: number;
  modifiedAt: number;
  mimeType: string;
  /** sha256 of `content`; undefined while not loaded, and while `hashing` is on its way. */
  checksum: string | undefined;
  /** A large write's sha256, computed in chunks after the write was acknowledged (large-content.ts). */
  hashing: Promise<string> | undefined;
  revision: number;
  /** Memory differs from the owning driver. Always false for memory-only and readonly paths. */
  dirty: boolean;
  memoryOnly: boolean;
}

export interface NewContent {
  bytes: Uint8Array;
  /** The same content as a string, when the caller wrote a string. */
  text?: string;
  /** sha256 of `bytes`: known, or being computed in chunks after the write is acknowledged (large-content.ts). */
  checksum?: string | Promise<string>;
  /** Its side file's id, when written there for the journal (side-files.ts). */
  ref?: string;
}

/** A new entry for `path` with no content yet. */
export function newEntry(path: string, createdAt: number, memoryOnly: boolean): Entry {
  return {
    path,
    content: undefined,
    text: undefined,
    size: 0,
    createdAt,
    modifiedAt: createdAt,
    mimeType: '',
    checksum: undefined,
    hashing: undefined,
    revision: 0,
    dirty: false,
    memoryOnly,
  };
}

/** Sets an entry's content and the metadata derived from it. */
export function setContent(entry: Entry, content: NewContent): void {
  entry.content = content.bytes;
  entry.text = content.text;
  entry.size = content.bytes.byteLength;
  const { checksum, bytes } = content;
  if (typeof checksum !== 'object') {
    entry.checksum = checksum ?? sha256(bytes);
    entry.hashing = undefined;
    return;
  }
  // The hash arrives after the acknowledgement; it is the entry's only while the entry still holds these bytes.
  entry.checksum = undefined;
  entry.hashing = checksum;
  void checksum.then((sum) => {
    if (entry.content !== bytes) return;
    entry.checksum = sum;
    entry.hashing = undefined;
  });
}

/** A loaded entry's sha256, computed now when a large write's hash has not arrived yet. */
export function checksumOf(entry: Entry & { content: Uint8Array }): string {
  entry.checksum ??= sha256(entry.content);
  return entry.checksum;
}

/** A loaded entry's sha256 for a caller that can wait: the large write's hash on its way, else the checksum. */
export function checksumSoon(entry: Entry & { content: Uint8Array }): string | Promise<string> {
  return entry.checksum ?? entry.hashing ?? checksumOf(entry);
}

/** The meta of a loaded entry as a read returns it: with its checksum, even right after a large write. */
export function loadedMeta(entry: Entry & { content: Uint8Array }): EntryMeta {
  checksumOf(entry);
  return toMeta(entry);
}

export function toMeta(entry: Entry): EntryMeta {
  return {
    path: entry.path,
    size: entry.size,
    createdAt: entry.createdAt,
    modifiedAt: entry.modifiedAt,
    mimeType: entry.mimeType,
    checksum: entry.checksum,
    revision: entry.revision,
    loaded: entry.content !== undefined,
    dirty: entry.dirty,
    memoryOnly: entry.memoryOnly,
  };
}

/** The journal operation recording an entry's current state (the entry must be loaded), at `path` (its own by default). */
export function putOp(entry: Entry, path: string = entry.path): JournalOp {
  const { mimeType, createdAt, modifiedAt } = entry;
  return { op: 'put', path, content: entry.content ?? new Uint8Array(0), mimeType, createdAt, modifiedAt };
}

/** The content as a string (cached). */
export function textOf(entry: Entry & { content: Uint8Array }): string {
  entry.text ??= Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.byteLength).toString('utf8');
  return entry.text;
}

export class EntryTable {
  private readonly byPath = new Map<string, Entry>();
  /** Directory path -> number of files anywhere under it. */
  private readonly directories = new Map<string, number>();
  private readonly dirtyPaths = new Set<string>();

  get size(): number {
    return this.byPath.size;
  }

  get(path: string): Entry | undefined {
    return this.byPath.get(path);
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  values(): IterableIterator<Entry> {
    return this.byPath.values();
  }

  /** Entries under a normalised prefix, sorted by path. */
  under(prefix: string): Entry[] {
    const found: Entry[] = [];
    for (const entry of this.byPath.values()) if (isUnder(entry.path, prefix)) found.push(entry);
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Paths of dirty entries. */
  dirty(): string[] {
    return [...this.dirtyPaths];
  }

  get dirtyCount(): number {
    return this.dirtyPaths.size;
  }

  /** Throws unless a new file can be placed at `path` (EEXIST for a directory, EINVAL under a file). */
  assertPlaceable(path: string): void {
    if (this.directories.has(path)) {
      throw new ScopeFsError('EEXIST', `${JSON.stringify(path)} is a directory`, { path });
    }
    for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) {
      if (this.byPath.has(dir)) {
        throw new ScopeFsError('EINVAL', `cannot create ${JSON.stringify(path)}: ${JSON.stringify(dir)} is a file`, { path });
      }
    }
  }

  /** Whether `path` could be placed (the non-throwing form of assertPlaceable). */
  isPlaceable(path: string): boolean {
    try {
      this.assertPlaceable(path);
      return true;
    } catch {
      return false;
    }
  }

  add(entry: Entry): void {
    const previous = this.byPath.get(entry.path);
    this.byPath.set(entry.path, entry);
    if (!previous) this.countDirectories(entry.path, 1);
    this.trackDirty(entry);
  }

  remove(path: string): Entry | undefined {
    const entry = this.byPath.get(path);
    if (!entry) return undefined;
    this.byPath.delete(path);
    this.dirtyPaths.delete(path);
    this.countDirectories(path, -1);
    return entry;
  }

  setDirty(entry: Entry, dirty: boolean): void {
    entry.dirty = dirty && !entry.memoryOnly;
    this.trackDirty(entry);
  }

  clear(): void {
    this.byPath.clear();
    this.directories.clear();
    this.dirtyPaths.clear();
  }

  private trackDirty(entry: Entry): void {
    if (entry.dirty) this.dirtyPaths.add(entry.path);
    else this.dirtyPaths.delete(entry.path);
  }

  private countDirectories(path: string, delta: number): void {
    for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) {
      const count = (this.directories.get(dir) ?? 0) + delta;
      if (count <= 0) this.directories.delete(dir);
      else this.directories.set(dir, count);
    }
  }
}
