/**
 * The persistence driver contract: the small interface every backend
 * implements (memory, disk, ...). Paths given to a driver are virtual paths
 * relative to the base directory of the config that owns the driver, always
 * starting with "/": a file `/docs/a.md` under a config with base `/docs` is
 * `/a.md` to its driver. Drivers know nothing about bases, debouncing or
 * journaling; the FileSystemServer does that.
 */
export interface StoredFileMeta {
  /** Driver-relative virtual path, e.g. `/notes/a.md`. */
  path: string;
  size: number;
  /** Milliseconds since the epoch. */
  modifiedAt: number;
  createdAt: number;
  /** The stored version's identity, from drivers that keep versions (see VersionedDriver). */
  version?: VersionTag;
}

/**
 * Identity of one stored version of a file. Two equal tags mean the file was
 * not touched in between; the disk driver builds it from inode, size and
 * mtime in nanoseconds. Compared by equality only.
 */
export type VersionTag = string;

/** A compare-and-swap condition on a driver write or delete. */
export interface VersionCondition {
  /**
   * The version the caller last wrote or read there; `null`: the file must
   * be absent. When the stored file is another version, the operation
   * changes nothing and throws ESTALE.
   */
  ifVersion: VersionTag | null;
}

export interface ListOptions {
  /**
   * Told about each file left out because its name is not a valid virtual
   * path (control characters, not NFC, too long); `collides` when its
   * canonical name is listed beside it.
   */
  onSkipped?: (name: string, reason: string, collides: boolean) => void;
}

export interface ReadLimit {
  maxBytes?: number;
}

/** What a versioned driver reads: the bytes and the version they came from. */
export interface VersionedFile {
  content: Uint8Array;
  version: VersionTag;
  /**
   * When the file was last modified (ms since the epoch), when the driver
   * knows: a file modified a moment ago may still be half written by the
   * program that is writing it (see Persister.check).
   */
  modifiedAtMs?: number;
}

export interface PersistenceDriver {
  /** Short name for status output, e.g. `disk:/srv/data`. */
  readonly name: string;
  /** Atomically replaces the file's content. Versioned drivers return the new version. */
  write(path: string, content: Uint8Array, condition?: VersionCondition): Promise<VersionTag | void>;
  /** The file's content, or null when it does not exist. */
  load(path: string): Promise<Uint8Array | null>;
  /** Removes the file; removing a missing file is not an error. */
  delete(path: string, condition?: VersionCondition): Promise<void>;
  /** Metadata of every file under `prefix` (default `/`), without reading content. */
  list(prefix?: string, options?: ListOptions): Promise<StoredFileMeta[]>;
  /** Optional cheap rename; the server falls back to write + delete. */
  move?(from: string, to: string): Promise<void>;
  /** Optional batch write. */
  writeMany?(items: ReadonlyArray<{ path: string; content: Uint8Array }>): Promise<void>;
  /** Releases resources. */
  close?(): Promise<void>;
}

/**
 * A driver whose files other programs can change behind the server's back
 * (the disk). The server treats it as a replica: it remembers the version
 * it last wrote or read per path, writes and deletes only with that version
 * as a condition, and reconciles whatever else it finds there.
 */
export interface VersionedDriver extends PersistenceDriver {
  /** Like `write`, but only when the condition holds; returns the new version. */
  write(path: string, content: Uint8Array, condition?: VersionCondition): Promise<VersionTag>;
  /** Like `delete`, but only when the condition holds. */
  delete(path: string, condition?: VersionCondition): Promise<void>;
  /**
   * The file and its version; null when absent. Throws EINVAL for what can
   * never be read as a file there (a link, a directory, a device), EFBIG
   * (before reading) for a file over `maxBytes`.
   */
  read(path: string, options?: ReadLimit): Promise<VersionedFile | null>;
  /** The version alone (no content read); null when absent. Throws like `read`. */
  version(path: string): Promise<VersionTag | null>;
  /**
   * Throws a typed error (EINVAL, ENAMETOOLONG as EINVAL) when a file can
   * never be persisted at `path`: a link or non-directory on the way, a
   * directory or link at the leaf, a name longer than the platform allows.
   * Synchronous and cheap: it runs before a new file is acknowledged.
   */
  assertPersistable(path: string): void;
}

export function isVersioned(driver: PersistenceDriver): driver is VersionedDriver {
  const candidate = driver as Partial<VersionedDriver>;
  return typeof candidate.read === 'function' && typeof candidate.assertPersistable === 'function';
}
