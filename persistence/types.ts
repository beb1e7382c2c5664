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
}

export interface PersistenceDriver {
  /** Short name for status output, e.g. `disk:/srv/data`. */
  readonly name: string;
  /** Atomically replaces the file's content. */
  write(path: string, content: Uint8Array): Promise<void>;
  /** The file's content, or null when it does not exist. */
  load(path: string): Promise<Uint8Array | null>;
  /** Removes the file; removing a missing file is not an error. */
  delete(path: string): Promise<void>;
  /** Metadata of every file under `prefix` (default `/`), without reading content. */
  list(prefix?: string): Promise<StoredFileMeta[]>;
  /** Optional cheap rename; the server falls back to write + delete. */
  move?(from: string, to: string): Promise<void>;
  /** Optional batch write. */
  writeMany?(items: ReadonlyArray<{ path: string; content: Uint8Array }>): Promise<void>;
  /** Releases resources. */
  close?(): Promise<void>;
}
