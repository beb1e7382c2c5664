/**
 * The FileSystem a transaction's code works with: reads see the scope as of
 * the start plus the transaction's own writes (snapshot isolation); writes
 * and deletes go to its private workspace and reach the scope only when the
 * transaction commits. Operations that act on the whole scope (reset,
 * checkpoints, restores, persistence) are refused inside a transaction with
 * EINVAL; history and event subscriptions read the live scope.
 */
import { isUtf8 } from '../content.js';
import { ScopeFsError, fsErrors } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import { mimeTypeFor } from '../fs/mime.js';
import type {
  BatchItem,
  BatchResult,
  ChangeOptions,
  Content,
  EntryMeta,
  FileEntry,
  FileSystem,
  FlushResult,
  FsListener,
  MoveResult,
  ReadOptions,
  WriteOptions,
} from '../types.js';
import type { TxWorkspace } from './workspace.js';

export class TransactionFs implements FileSystem {
  constructor(
    private readonly workspace: TxWorkspace,
    /** Throws when the transaction is over (committed, aborted): its fs is no longer usable. */
    private readonly assertOpen: () => void,
  ) {}

  readFile(path: string, options?: { encoding?: 'utf8' }): Promise<string>;
  readFile(path: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  readFile(path: string, options?: ReadOptions): Promise<Content>;
  async readFile(path: string, options?: ReadOptions): Promise<Content> {
    if (options?.revision !== undefined) return this.workspace.live.readFile(path, options); // an old version is history, the same for all
    const target = this.open(path);
    this.existing(target);
    return decoded(await this.workspace.content(target), options);
  }

  readEntry(path: string, options?: { encoding?: 'utf8' }): Promise<FileEntry<string>>;
  readEntry(path: string, options: { encoding: 'bytes' }): Promise<FileEntry<Uint8Array>>;
  readEntry(path: string, options?: ReadOptions): Promise<FileEntry>;
  async readEntry(path: string, options?: ReadOptions): Promise<FileEntry> {
    const target = this.open(path);
    const meta = this.existing(target);
    return { meta, content: decoded(await this.workspace.content(target), options) };
  }

  async writeFile(path: string, content: Content, options: WriteOptions = {}): Promise<EntryMeta> {
    const target = this.open(path);
    this.assertRevision(target, options.ifRevision);
    const existing = this.workspace.meta(target);
    return this.workspace.put(target, bytesOf(target, content), options.mimeType ?? existing?.mimeType ?? mimeTypeFor(target));
  }

  async appendFile(path: string, content: Content, options: ChangeOptions = {}): Promise<EntryMeta> {
    const target = this.open(path);
    const existing = this.workspace.meta(target);
    const before = existing ? await this.workspace.content(target) : new Uint8Array();
    return this.writeFile(target, Buffer.concat([before, bytesOf(target, content)]), options);
  }

  async editFile(path: string, oldStr: string, newStr: string, options: ChangeOptions = {}): Promise<EntryMeta> {
    const target = this.open(path);
    if (typeof oldStr !== 'string' || oldStr === '') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the old string must be a non-empty string`, target);
    if (typeof newStr !== 'string') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the new string must be a string`, target);
    this.existing(target);
    const content = await this.workspace.content(target);
    if (!isUtf8(content)) throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the file is not UTF-8 text`, target);
    const text = Buffer.from(content).toString('utf8');
    const matches = text.split(oldStr).length - 1;
    if (matches !== 1) throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: expected exactly 1 match of the old string, found ${matches}`, target);
    return this.writeFile(target, text.replace(oldStr, () => newStr), options);
  }

  async deleteFile(path: string, options: ChangeOptions = {}): Promise<void> {
    const target = this.open(path);
    this.existing(target);
    this.assertRevision(target, options.ifRevision);
    this.workspace.remove(target);
  }

  async fileExists(path: string): Promise<boolean> {
    return this.workspace.meta(this.open(path)) !== undefined;
  }

  async stat(path: string): Promise<EntryMeta> {
    return this.existing(this.open(path));
  }

  async listFiles(prefix?: string): Promise<string[]> {
    return (await this.listEntries(prefix)).map((meta) => meta.path);
  }

  async listEntries(prefix?: string): Promise<EntryMeta[]> {
    this.assertOpen();
    return this.workspace.list(prefix === undefined ? '/' : normalizePrefix(prefix));
  }

  async moveFile(from: string, to: string, options: ChangeOptions = {}): Promise<MoveResult> {
    const source = this.open(from);
    const pairs: Array<[string, string]> = this.workspace.meta(source)
      ? [[source, normalizePath(to)]]
      : this.workspace.list(normalizePrefix(from)).map((meta) => [meta.path, normalizePrefix(to) + meta.path.slice(normalizePrefix(from).length)]);
    if (pairs.length === 0) throw fsErrors.notFound(source);
    if (pairs.length === 1 && options.ifRevision !== undefined) this.assertRevision(source, options.ifRevision);
    for (const [a, b] of pairs) {
      if (a === b) continue;
      const meta = this.existing(a);
      this.workspace.put(b, await this.workspace.content(a), meta.mimeType);
      this.workspace.remove(a);
    }
    return { moved: pairs.filter(([a, b]) => a !== b) };
  }

  /** Inside a transaction a batch is simply its items, in the transaction's workspace; the commit is the one step. */
  async applyBatch(items: readonly BatchItem[], options: ChangeOptions = {}): Promise<BatchResult> {
    const written: EntryMeta[] = [];
    const deleted: string[] = [];
    for (const item of items) {
      if ('delete' in item && item.delete === true) {
        await this.deleteFile(item.path, { ...options, ifRevision: item.ifRevision });
        deleted.push(normalizePath(item.path));
      } else if ('content' in item) {
        written.push(await this.writeFile(item.path, item.content, { ...options, ifRevision: item.ifRevision, mimeType: item.mimeType }));
      }
    }
    return { written, deleted };
  }

  async flushAll(): Promise<FlushResult> {
    return { flushed: [], failed: [] }; // nothing of a transaction is persisted before it commits
  }

  // Live reads: the same inside and outside the transaction.
  history: FileSystem['history'] = (...args) => this.workspace.live.history(...args);
  listDeleted: FileSystem['listDeleted'] = (...args) => this.workspace.live.listDeleted(...args);
  listCheckpoints: FileSystem['listCheckpoints'] = () => this.workspace.live.listCheckpoints();
  diffCheckpoint: FileSystem['diffCheckpoint'] = (...args) => this.workspace.live.diffCheckpoint(...args);
  stats: FileSystem['stats'] = () => this.workspace.live.stats();
  getPersistenceConfigs: FileSystem['getPersistenceConfigs'] = () => this.workspace.live.getPersistenceConfigs();
  subscribe(listener: FsListener, options?: { snapshot?: boolean }): () => void {
    return this.workspace.live.subscribe(listener, options);
  }

  // Scope-wide operations: not part of one run's changes.
  restore: FileSystem['restore'] = () => refused('restore');
  checkpoint: FileSystem['checkpoint'] = () => refused('checkpoint');
  restoreCheckpoint: FileSystem['restoreCheckpoint'] = () => refused('restoreCheckpoint');
  deleteCheckpoint: FileSystem['deleteCheckpoint'] = () => refused('deleteCheckpoint');
  reset: FileSystem['reset'] = () => refused('reset');
  registerFiles: FileSystem['registerFiles'] = () => refused('registerFiles');
  registerPersistence: FileSystem['registerPersistence'] = () => refused('registerPersistence');
  checkDisk: FileSystem['checkDisk'] = () => refused('checkDisk');

  private open(path: string): string {
    this.assertOpen();
    return normalizePath(path);
  }

  private existing(path: string): EntryMeta {
    const meta = this.workspace.meta(path);
    if (!meta) throw fsErrors.notFound(path);
    return meta;
  }

  private assertRevision(path: string, expected: number | undefined): void {
    if (expected === undefined) return;
    const actual = this.workspace.meta(path)?.revision ?? 0;
    if (actual !== expected) {
      throw new ScopeFsError('ESTALE', `${JSON.stringify(path)} is at revision ${actual} in this transaction, not ${expected}; read it again`, { path });
    }
  }
}

function bytesOf(path: string, content: Content): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return new Uint8Array(content);
  throw fsErrors.invalid(`content for ${JSON.stringify(path)} must be a string or a Uint8Array`, path);
}

function refused(operation: string): Promise<never> {
  return Promise.reject(fsErrors.invalid(`${operation} acts on the whole scope and is not available inside a transaction; commit or abort the transaction first`));
}

/** The content as the read asked for it: the bytes as kept, or their text (decoded in place, not copied). */
function decoded(content: Uint8Array, options: ReadOptions | undefined): Content {
  return options?.encoding === 'bytes' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
}
