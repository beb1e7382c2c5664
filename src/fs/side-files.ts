/**
 * Content side files for large journaled writes. The content of a large put
 * is written (async, in chunks, before the actor step) to
 * `<journal>.content/<id>`, a random id of the write's own, and the journal
 * record holds only the id and the size: the actor step appends a few hundred
 * bytes instead of `writeSync`ing 50 MiB. A side file is complete (written,
 * renamed from its temp name into place, fsynced with its directory when the
 * journal fsyncs each record) before the record that references it is
 * appended, so a record is never acknowledged without its whole content, and
 * replay checks its size. (Its sha256 is computed after the acknowledgement,
 * large-content.ts, so it cannot be in the record.)
 *
 * A side file is removed once no journal record references it: after the
 * journal is truncated (everything persisted) or rewritten (pending changes
 * are rewritten inline). Files reserved by writes still on their way into the
 * journal are kept.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ScopeFsError } from '../errors.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.js';

/** Names of side files being unlinked in the background. */
const TRASH = 'trash-';
/** Names of side files still being written. */
const TEMP = 'tmp-';
let trashCounter = 0;

/** The side-file directory of the journal at `journalPath`. */
export function sideDirOf(journalPath: string): string {
  return `${journalPath}.content`;
}

/** Reads a side file for replay and checks it is as long as the record says. */
export function readSideFile(dir: string, id: string, bytes: number): Uint8Array {
  let content: Buffer;
  try {
    content = readFileSync(join(dir, id));
  } catch (err) {
    throw new ScopeFsError('EIO', `the journal references content ${id} that is missing from ${JSON.stringify(dir)}; restore that file or remove the journal to lose the change`, { cause: err });
  }
  if (content.byteLength !== bytes) {
    throw new ScopeFsError('EIO', `the journal's content file ${JSON.stringify(join(dir, id))} is damaged (${content.byteLength} bytes, the record says ${bytes}); restore it or remove the journal to lose the change`);
  }
  return new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
}

export class SideFiles {
  /** Ids of side files whose writes have not entered the journal yet. */
  private readonly reserved = new Set<string>();
  /** Whether the directory may hold files (false once pruned with nothing reserved): small writes' settles skip the readdir. */
  private maybeFiles = true;
  /** Ids of side files still being written (under their temp names). */
  private readonly writing = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly fsync: boolean,
  ) {}

  /** Starts a side file: chunks are written to a temp file, then `finish` renames it into place. Kept from `finish` until `release`. */
  async begin(): Promise<SideFileWriter> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const id = randomBytes(16).toString('hex'); // journal-codec.ts REF_PATTERN
    this.writing.add(id);
    this.maybeFiles = true;
    try {
      return new SideFileWriter(this, id, await open(this.tempPath(id), 'w', PRIVATE_FILE_MODE));
    } catch (err) {
      this.writing.delete(id);
      throw err;
    }
  }

  /** @internal (SideFileWriter) */
  async landed(id: string, handle: FileHandle | undefined): Promise<void> {
    try {
      if (handle) {
        if (this.fsync) await handle.sync();
        await handle.close();
      }
      this.reserved.add(id);
      try {
        await rename(this.tempPath(id), join(this.dir, id));
        if (this.fsync) await syncDir(this.dir);
      } catch (err) {
        this.release(id);
        throw err;
      }
    } catch (err) {
      await rm(this.tempPath(id), { force: true });
      throw err;
    } finally {
      this.writing.delete(id);
    }
  }

  /** @internal (SideFileWriter) */
  tempPath(id: string): string {
    return join(this.dir, `${TEMP}${id}`);
  }

  /** Whether the side file `id` is there (checked before a record referencing it is appended). */
  has(id: string): boolean {
    return existsSync(join(this.dir, id));
  }

  /** The write is in the journal (or was refused): the file may go once the journal lets go of it. */
  release(id: string): void {
    this.reserved.delete(id);
  }

  /** Removes every side file no journal record references any more (the journal was just truncated or rewritten inline). */
  prune(): void {
    if (!this.maybeFiles) return;
    this.maybeFiles = this.reserved.size > 0 || this.writing.size > 0;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no directory: nothing to remove
    }
    for (const name of names) {
      if (this.reserved.has(name) || (name.startsWith(TEMP) && this.writing.has(name.slice(TEMP.length)))) continue; // on their way in
      // Unlinking 50 MiB takes milliseconds: renamed out of the way now, unlinked in the background.
      const trash = join(this.dir, `${TRASH}${process.pid}-${++trashCounter}-${name}`);
      try {
        renameSync(join(this.dir, name), trash);
      } catch {
        continue;
      }
      void rm(trash, { force: true }).catch(() => undefined);
    }
  }
}

/** One side file being written: chunks in order, then `finish` puts it under its id. */
export class SideFileWriter {
  /** The last chunk's write: the next one waits for it (one in flight overlaps writing with copying). */
  private tail: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly files: SideFiles,
    readonly id: string,
    private handle: FileHandle | undefined,
  ) {}

  /** Queues `chunk` at `position`; resolves once the write before it is done (backpressure). */
  async write(chunk: Uint8Array, position: number): Promise<void> {
    const before = this.tail;
    this.tail = before.then(() => writeAll(this.handle!, chunk, position)).catch((err: unknown) => void (this.failed ??= err));
    await before;
  }

  async finish(): Promise<void> {
    await this.tail;
    if (this.failed !== undefined) return this.abort();
    const handle = this.handle;
    this.handle = undefined;
    await this.files.landed(this.id, handle);
  }

  /** Gives up: the temp file is removed. Rethrows the write's error when there was one. */
  async abort(): Promise<void> {
    await this.tail;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.files.tempPath(this.id), { force: true });
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
