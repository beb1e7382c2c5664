/**
 * Content side files for large journaled writes. The content of a large put
 * is written (async, in chunks, before the actor step) to
 * `<journal>.content/<sha256>`, and the journal record holds only the hash
 * and the size: the actor step appends a few hundred bytes instead of
 * checksumming and `writeSync`ing 50 MiB. A side file is complete (written,
 * renamed into place, fsynced with its directory when the journal fsyncs each
 * record) before the record that references it is appended, so a record is
 * never acknowledged without its content. Replay reads the file and checks
 * its sha256.
 *
 * A side file is removed once no journal record references it: after the
 * journal is truncated (everything persisted) or rewritten (pending changes
 * are rewritten inline). Files reserved by writes still on their way into the
 * journal are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ScopeFsError } from '../errors.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.js';

/** Names of side files being unlinked in the background. */
const TRASH = 'trash-';
let tempCounter = 0;

/** The side-file directory of the journal at `journalPath`. */
export function sideDirOf(journalPath: string): string {
  return `${journalPath}.content`;
}

/** Reads a side file for replay and checks it is the content the record describes. */
export function readSideFile(dir: string, sha256: string, bytes: number): Uint8Array {
  let content: Buffer;
  try {
    content = readFileSync(join(dir, sha256));
  } catch (err) {
    throw new ScopeFsError('EIO', `the journal references content ${sha256} that is missing from ${JSON.stringify(dir)}; restore that file or remove the journal to lose the change`, { cause: err });
  }
  if (content.byteLength !== bytes || createHash('sha256').update(content).digest('hex') !== sha256) {
    throw new ScopeFsError('EIO', `the journal's content file ${JSON.stringify(join(dir, sha256))} is damaged (size or sha256 differ); restore it or remove the journal to lose the change`);
  }
  return new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
}

export class SideFiles {
  /** sha256 -> writes holding it that have not entered the journal yet. */
  private readonly reserved = new Map<string, number>();
  /** Whether the directory may hold files (false once pruned with nothing reserved): small writes' settles skip the readdir. */
  private maybeFiles = true;
  /** Temp files of side files still being written. */
  private readonly writing = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly fsync: boolean,
  ) {}

  /**
   * Starts a side file whose name (its sha256) is known only at the end:
   * chunks are written to a temp file as they are hashed, then `finish`
   * renames it into place. Kept from `finish` until `release`.
   */
  async begin(): Promise<SideFileWriter> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const temp = join(this.dir, `tmp-${process.pid}-${++tempCounter}`);
    this.writing.add(basename(temp));
    this.maybeFiles = true;
    try {
      return new SideFileWriter(this, temp, await open(temp, 'w', PRIVATE_FILE_MODE));
    } catch (err) {
      this.writing.delete(basename(temp));
      throw err;
    }
  }

  /** @internal (SideFileWriter) */
  async landed(temp: string, sha256: string, handle: FileHandle | undefined): Promise<void> {
    try {
      if (handle) {
        if (this.fsync) await handle.sync();
        await handle.close();
      }
      this.reserved.set(sha256, (this.reserved.get(sha256) ?? 0) + 1);
      try {
        await rename(temp, join(this.dir, sha256));
        if (this.fsync) await syncDir(this.dir);
      } catch (err) {
        this.release(sha256);
        throw err;
      }
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    } finally {
      this.writing.delete(basename(temp));
    }
  }

  /** Whether the side file `sha256` is there (checked before a record referencing it is appended). */
  has(sha256: string): boolean {
    return existsSync(join(this.dir, sha256));
  }

  /** The write is in the journal (or was refused): the file may go once the journal lets go of it. */
  release(sha256: string): void {
    const count = (this.reserved.get(sha256) ?? 1) - 1;
    if (count > 0) this.reserved.set(sha256, count);
    else this.reserved.delete(sha256);
  }

  /** Removes every side file no journal record references any more (the journal was just truncated or rewritten inline). */
  prune(): void {
    if (!this.maybeFiles) return;
    this.maybeFiles = this.reserved.size > 0;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no directory: nothing to remove
    }
    for (const name of names) {
      if (this.reserved.has(name) || this.writing.has(name)) continue; // writes on their way in
      // Unlinking 50 MiB takes milliseconds: renamed out of the way now (a write of the same content may land
      // under the name next), unlinked in the background.
      const trash = join(this.dir, `${TRASH}${++tempCounter}-${name}`);
      try {
        renameSync(join(this.dir, name), trash);
      } catch {
        continue;
      }
      void rm(trash, { force: true }).catch(() => undefined);
    }
  }
}

/** One side file being written: chunks in order while they are hashed, then `finish` under its sha256. */
export class SideFileWriter {
  /** The last chunk's write: the next one waits for it (one in flight overlaps writing with hashing). */
  private tail: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly files: SideFiles,
    private readonly temp: string,
    private handle: FileHandle | undefined,
  ) {}

  /** Queues `chunk` at `position`; resolves once the write before it is done (backpressure). */
  async write(chunk: Uint8Array, position: number): Promise<void> {
    const before = this.tail;
    this.tail = before.then(() => writeAll(this.handle!, chunk, position)).catch((err: unknown) => void (this.failed ??= err));
    await before;
  }

  async finish(sha256: string): Promise<void> {
    await this.tail;
    if (this.failed !== undefined) return this.abort();
    const handle = this.handle;
    this.handle = undefined;
    await this.files.landed(this.temp, sha256, handle);
  }

  /** Gives up: the temp file is removed. Rethrows the write's error when there was one. */
  async abort(): Promise<void> {
    await this.tail;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.temp, { force: true });
    if (this.failed !== undefined) throw this.failed;
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  for (let written = 0; written < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, position + written);
    written += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
