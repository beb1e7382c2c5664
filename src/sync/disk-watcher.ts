import { watch, type FSWatcher } from 'chokidar';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { Actor, type ActorCallbacks } from '../../supervisors/actor.js';
import { sha256 } from '../content.js';
import { isScopeFsError } from '../errors.js';
import { normalizePath } from '../paths.js';
import { conflictCopyPath } from './conflict-copy.js';
import type { FileSystem, FsEvent } from '../types.js';

type DiskChange = { type: 'upsert' | 'unlink'; absolutePath: string };

export interface DiskWatcherOptions {
  /** How long a file must stay unchanged before it is read (chokidar's awaitWriteFinish). */
  stabilityMs?: number;
  /** Told about files on disk that are not taken in (links, refused by the filesystem). */
  onRefused?: (path: string, reason: string) => void | Promise<void>;
}

/** How many recent contents per path count as "ours" when they show up on disk. */
const OWN_HASHES_PER_PATH = 16;

/**
 * Picks up edits other programs make under the root (an editor, a shell) and
 * feeds them into the FileSystemServer with origin `disk`. chokidar waits for
 * writes to finish. The server's own persists are recognised by content hash
 * (every content the server held recently for that path), never by timing.
 */
export class DiskWatcher implements ActorCallbacks<never, DiskChange> {
  actor!: Actor<never, DiskChange>;
  private watcher: FSWatcher | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly ownHashes = new Map<string, string[]>();

  constructor(
    private readonly fs: FileSystem,
    private readonly root: string,
    private readonly options: DiskWatcherOptions = {},
  ) {}

  static async start(fs: FileSystem, root: string, options?: DiskWatcherOptions): Promise<DiskWatcher> {
    const watcher = new DiskWatcher(fs, root, options);
    watcher.actor = new Actor<never, DiskChange>(watcher, { name: 'disk-watcher' });
    await watcher.actor.start();
    return watcher;
  }

  async init(): Promise<void> {
    this.unsubscribe = this.fs.subscribe((event) => this.rememberOwn(event), { snapshot: true });
    const stability = this.options.stabilityMs ?? 100;
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path) => this.ignored(path),
      awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.max(10, stability / 4) },
    });
    this.watcher.on('add', (p) => this.actor.cast({ type: 'upsert', absolutePath: p }));
    this.watcher.on('change', (p) => this.actor.cast({ type: 'upsert', absolutePath: p }));
    this.watcher.on('unlink', (p) => this.actor.cast({ type: 'unlink', absolutePath: p }));
    this.watcher.on('error', () => undefined);
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  handleCall(): never {
    throw new Error('the disk watcher takes no calls');
  }

  async handleCast(change: DiskChange): Promise<void> {
    const path = this.virtualPath(change.absolutePath);
    if (path === null) return;
    if (change.type === 'unlink') return this.onUnlink(path);
    return this.onUpsert(path, change.absolutePath);
  }

  async terminate(): Promise<void> {
    this.unsubscribe?.();
    await this.watcher?.close();
  }

  private async onUpsert(path: string, absolutePath: string): Promise<void> {
    let content: Buffer | string;
    try {
      content = await readRegularFile(absolutePath);
    } catch {
      return; // gone again before we could read it; an unlink event follows
    }
    if (typeof content === 'string') return this.refuse(path, content);
    if (this.isOwn(path, sha256(content))) return;
    try {
      await this.keepUnpersisted(path);
      await this.fs.writeFile(path, content, { origin: 'disk' });
    } catch (err) {
      if (!isScopeFsError(err)) throw err;
      await this.refuse(path, err.message); // typed refusals (EROFS, EFBIG...) leave the disk file alone
    }
  }

  /**
   * An edit on disk was made from the disk's content; when memory holds a
   * newer acknowledged version not yet written to disk, that version would
   * be lost. It is kept beside the file as a conflict copy, and noted.
   */
  private async keepUnpersisted(path: string): Promise<void> {
    const meta = await this.fs.stat(path).catch(() => undefined);
    if (!meta?.dirty) return;
    const copy = conflictCopyPath(path, new Date(), 'unpersisted');
    await this.fs.writeFile(copy, await this.fs.readFile(path, { encoding: 'bytes' }), { origin: 'disk' });
    await this.options.onRefused?.(path, `an edit on disk replaced a version not yet written to disk; that version is kept as ${copy}`);
  }

  /** Records the refusal before the next disk event is handled, so the record is never behind. */
  private async refuse(path: string, reason: string): Promise<void> {
    await this.options.onRefused?.(path, `not taken in from disk: ${reason}`);
  }

  private async onUnlink(path: string): Promise<void> {
    if (!(await this.fs.fileExists(path))) return; // our own delete or move
    try {
      await this.fs.deleteFile(path, { origin: 'disk' });
    } catch (err) {
      if (!isScopeFsError(err)) throw err;
    }
  }

  private rememberOwn(event: FsEvent): void {
    if (event.type === 'snapshot') {
      for (const entry of event.entries) if (entry.checksum) this.addOwn(entry.path, entry.checksum);
    } else if (event.type === 'file_updated' && event.meta.checksum) {
      if (event.origin === 'disk') this.ownHashes.delete(event.path);
      this.addOwn(event.path, event.meta.checksum);
    } else if (event.type === 'file_moved' && event.meta.checksum) {
      this.addOwn(event.to, event.meta.checksum);
    }
  }

  private addOwn(path: string, hash: string): void {
    const hashes = this.ownHashes.get(path) ?? [];
    if (!hashes.includes(hash)) hashes.push(hash);
    if (hashes.length > OWN_HASHES_PER_PATH) hashes.shift();
    this.ownHashes.set(path, hashes);
  }

  private isOwn(path: string, hash: string): boolean {
    return this.ownHashes.get(path)?.includes(hash) ?? false;
  }

  private ignored(absolutePath: string): boolean {
    const rel = relative(this.root, absolutePath);
    const first = rel.split(sep)[0];
    // Engine state: the journal, sync state and the disk driver's temp files.
    return first === '.scopefs';
  }

  private virtualPath(absolutePath: string): string | null {
    const rel = relative(this.root, absolutePath);
    if (rel === '' || rel.startsWith('..')) return null;
    try {
      return normalizePath(`/${rel.split(sep).join('/')}`);
    } catch {
      return null; // names the filesystem allows but scopefs does not (control characters, ...)
    }
  }
}

/**
 * The content of a regular file with a single name, read without following
 * a link; otherwise why it is refused. A symlink or a hard link could lead
 * outside the root.
 */
async function readRegularFile(absolutePath: string): Promise<Buffer | string> {
  const handle = await open(absolutePath, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') return 'a symbolic link' as const;
    throw err;
  });
  if (typeof handle === 'string') return handle;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return 'not a regular file';
    if (stats.nlink > 1) return 'a file with more than one hard link';
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
