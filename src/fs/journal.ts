/**
 * The write-ahead journal file. Appends are synchronous `writeSync` calls on
 * an fd opened for appending: once one returns, the record is in the kernel's
 * page cache and survives the process being killed (SIGKILL, OOM, crash).
 * Surviving a power cut needs `fsyncEachRecord`; without it, fsync happens
 * on every rewrite and on close. A new journal without records is created
 * without fsyncs; its directory is synced with the first fsync of the file.
 *
 * Synchronous I/O is deliberate: an append is a few microseconds, it keeps a
 * record and the in-memory change it describes in one uninterrupted step, and
 * a rewrite can never interleave with an append.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  fstatSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ScopeFsError, errorMessage } from '../errors.js';
import { JOURNAL_MAGIC, decodeJournal, encodeRecordChunks, type DecodedJournal, type JournalOp, type ResolveRef } from './journal-codec.js';

/** How often, at most, an append checks that the journal is still at its path. */
const CHECK_INTERVAL_MS = 1;

export interface JournalOptions {
  /** fsync after every append (power-cut durability; slower). Default false. */
  fsyncEachRecord?: boolean;
}

export class Journal {
  readonly path: string;
  private readonly fsyncEachRecord: boolean;
  private fd: number;
  /** The inode the fd writes to: the file at `path` must still be it. */
  private inode: number;
  /** When `intact` last looked (performance.now()), and whether that was in this turn of the event loop. */
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checkedThisTurn = false;
  private length: number;
  /**
   * The file was created without syncing its directory (a new, empty
   * journal): the directory is synced before the first record that must
   * survive a power cut is acknowledged, and on close.
   */
  private entryUnsynced: boolean;

  private constructor(path: string, fd: number, length: number, options: JournalOptions, entryUnsynced = false) {
    this.path = path;
    this.fd = fd;
    this.inode = fstatSync(fd).ino;
    this.length = length;
    this.fsyncEachRecord = options.fsyncEachRecord ?? false;
    this.entryUnsynced = entryUnsynced;
  }

  /** Reads a journal; a missing file is an empty journal. A torn tail is reported in `ignoredBytes`. */
  static read(path: string, resolveRef?: ResolveRef): DecodedJournal {
    rmSync(rewritePath(path), { force: true }); // left by a process killed mid-rewrite; the original is intact
    if (!existsSync(path)) return { records: [], validBytes: 0, ignoredBytes: 0 };
    try {
      return decodeJournal(readFileSync(path), resolveRef);
    } catch (err) {
      if (err instanceof ScopeFsError) throw err; // a side file missing or damaged: its own message
      throw new ScopeFsError('EINVAL', `cannot read journal ${JSON.stringify(path)}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Atomically replaces any journal at `path` with one holding `ops`, and opens it for appending. */
  static create(path: string, ops: readonly JournalOp[], options: JournalOptions = {}): Journal {
    if (ops.length === 0) {
      const fresh = createEmpty(path);
      if (fresh !== undefined) return new Journal(path, fresh, JOURNAL_MAGIC.byteLength, options, true);
    }
    mkdirSync(dirname(path), { recursive: true });
    const length = writeAtomically(path, ops);
    return new Journal(path, openSync(path, 'a'), length, options);
  }

  /** Size of the file in bytes. */
  get bytes(): number {
    return this.length;
  }

  /** True when the journal holds no records. */
  get empty(): boolean {
    return this.length <= JOURNAL_MAGIC.byteLength;
  }

  /**
   * Whether the file at `path` is still the one this journal appends to. It
   * is not when the file, its directory or the whole root was removed,
   * replaced or moved away: records appended then would never be replayed.
   * A stat costs about as much as the append it guards, so it runs once per
   * turn of the event loop, and at least every CHECK_INTERVAL_MS within a
   * long one; records appended in between are rewritten from memory into
   * the new journal, so only a kill inside that interval after a removal
   * can lose them.
   */
  intact(): boolean {
    const now = performance.now();
    if (this.checkedThisTurn && now - this.checkedAt < CHECK_INTERVAL_MS) return true;
    if (!this.checkedThisTurn) setImmediate(() => (this.checkedThisTurn = false)).unref();
    this.checkedThisTurn = true;
    this.checkedAt = now;
    return statSync(this.path, { throwIfNoEntry: false })?.ino === this.inode;
  }

  /** Closes the file descriptor of a journal that is no longer at its path, leaving whatever is there. */
  abandon(): void {
    closeSync(this.fd);
  }

  /** Appends one record; when this returns, the record survives a killed process. */
  append(ops: readonly JournalOp[]): void {
    const { chunks, bytes } = encodeRecordChunks(ops);
    writeChunks(this.fd, chunks);
    this.length += bytes;
    if (this.fsyncEachRecord) this.sync();
  }

  /** Replaces the content with just `ops` (the changes not yet persisted), atomically. */
  rewrite(ops: readonly JournalOp[]): void {
    const length = writeAtomically(this.path, ops);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.inode = fstatSync(this.fd).ino;
    this.length = length;
    this.entryUnsynced = false; // writeAtomically synced the directory
  }

  /** Drops every record: everything they described is persisted. */
  truncate(): void {
    if (this.empty) return;
    ftruncateSync(this.fd, JOURNAL_MAGIC.byteLength);
    fsyncSync(this.fd);
    this.length = JOURNAL_MAGIC.byteLength;
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }

  /** The content on stable storage, and the file's directory entry when it is new. */
  private sync(): void {
    fsyncSync(this.fd);
    if (!this.entryUnsynced) return;
    syncDirectory(dirname(this.path));
    this.entryUnsynced = false;
  }

  /** Closes and deletes the file (used when journaling is switched off). */
  remove(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}

function rewritePath(path: string): string {
  return `${path}.rewrite`;
}

/**
 * A new journal holding no records, where none is: created exclusively and
 * the magic appended, with no fsync and no rename. It holds nothing to lose:
 * a power cut can leave it missing, empty or with part of its magic, each
 * read as an empty journal. Undefined when a file is there (it is replaced
 * atomically instead).
 */
function createEmpty(path: string): number | undefined {
  let fd: number;
  try {
    fd = openExclusive(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true });
    try {
      fd = openExclusive(path);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw again;
    }
  }
  try {
    writeChunks(fd, [JOURNAL_MAGIC]);
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw err;
  }
  return fd;
}

/** Opens a new file for appending; EEXIST when there is one. The journal holds file contents: owner only. */
function openExclusive(path: string): number {
  return openSync(path, 'ax', 0o600);
}

/** Writes magic + one record per op to a temp file, fsyncs, renames it over `path`. Returns the size. */
function writeAtomically(path: string, ops: readonly JournalOp[]): number {
  const temp = rewritePath(path);
  const fd = openSync(temp, 'w', 0o600); // the journal holds file contents: owner only
  let length = 0;
  try {
    length += writeChunks(fd, [JOURNAL_MAGIC]);
    for (const op of ops) length += writeChunks(fd, encodeRecordChunks([op]).chunks);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectory(dirname(path));
  return length;
}

/** Writes `chunks` in order at the fd's position (retrying short writes); returns the bytes written. */
function writeChunks(fd: number, chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const chunk of chunks) {
    let written = 0;
    while (written < chunk.byteLength) written += writeSync(fd, chunk, written);
    total += written;
  }
  return total;
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
