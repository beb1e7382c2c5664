/**
 * History, restore and checkpoints on top of a filesystem and its recorder:
 * reads go to the HistoryStore (after the recorder has written what it
 * queued), and every restore is an ordinary write or delete through the
 * filesystem, so it is journaled, persisted, recorded and synced like any
 * other change. What a checkpoint restore changes is planned by
 * history-plan.ts from values.
 */
import { ScopeFsError, fsErrors } from '../errors.js';
import { isUnder, normalizePath, normalizePrefix } from '../paths.js';
import type {
  BatchItem,
  BatchResult,
  CheckpointDiff,
  CheckpointInfo,
  CheckpointOptions,
  CheckpointRestore,
  EntryMeta,
  FileEntry,
  FileHistoryApi,
  FlushResult,
  HistoryQuery,
  HistoryVersion,
  RestoreCheckpointOptions,
  RestoreOptions,
  WriteOptions,
  ChangeOptions,
} from '../types.js';
import type { CheckpointFile } from '../../persistence/history/types.js';
import type { HistoryRecorder } from './history-recorder.js';
import { diffFiles, filesUnder, planCheckpointRestore, type CurrentFile } from './history-plan.js';

/** What the history API needs of the filesystem. */
export interface HistoryHost {
  flushAll(): Promise<FlushResult>;
  listEntries(prefix?: string): Promise<EntryMeta[]>;
  readEntry(path: string, options: { encoding: 'bytes' }): Promise<FileEntry<Uint8Array>>;
  writeFile(path: string, content: Uint8Array, options?: WriteOptions): Promise<EntryMeta>;
  applyBatch(items: readonly BatchItem[], options?: ChangeOptions): Promise<BatchResult>;
}

/** What a checkpoint restore changes per batch (one journal record, one content query): files, and their bytes. */
const RESTORE_BATCH_FILES = 1_000;
const RESTORE_BATCH_BYTES = 16 * 1024 * 1024;

/** Consecutive runs of `items`, each within both limits (a single bigger file is a batch of its own). */
function* batchesOf<T extends { size?: number }>(items: readonly T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.size ?? 0;
    if (batch.length > 0 && (batch.length === RESTORE_BATCH_FILES || bytes + size > RESTORE_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

export class ScopeHistory implements FileHistoryApi {
  constructor(
    private readonly host: HistoryHost,
    private readonly recorder: HistoryRecorder,
  ) {}

  /** Resolves once everything applied so far is in the history. */
  settled(): Promise<void> {
    return this.recorder.drain();
  }

  async history(path: string, query: HistoryQuery = {}): Promise<HistoryVersion[]> {
    const target = normalizePath(path);
    await this.recorder.drain();
    return this.recorder.store.versions(this.recorder.scope, target, { limit: limitOf(query.limit) });
  }

  /** The content of `revision` of `path`: ENOENT naming it when unknown, EISDIR-like EINVAL for a deletion. */
  async contentAt(path: string, revision: number): Promise<Uint8Array> {
    const target = normalizePath(path);
    const version = await this.versionOf(target, revision);
    if (version.deleted) {
      throw new ScopeFsError('ENOENT', `revision ${revision} of ${target} is its deletion, which has no content; pick an earlier revision from history(${JSON.stringify(target)})`, { path: target });
    }
    return this.contentOf(target, version.hash!, revision);
  }

  async restore(path: string, revision: number, options: RestoreOptions = {}): Promise<EntryMeta> {
    const target = normalizePath(path);
    const content = await this.contentAt(target, revision);
    return this.host.writeFile(target, content, writeOptions(options));
  }

  async listDeleted(prefix?: string): Promise<HistoryVersion[]> {
    const under = normalizePrefix(prefix);
    await this.recorder.drain();
    return this.recorder.store.deleted(this.recorder.scope, under);
  }

  async checkpoint(name?: string, options: CheckpointOptions = {}): Promise<CheckpointInfo> {
    const prefix = normalizePrefix(options.prefix);
    const at = Date.now();
    const checkpointName = name ?? `checkpoint-${new Date(at).toISOString()}`;
    if (options.flush !== false) await this.host.flushAll();
    const files: Array<CheckpointFile & { content: Uint8Array }> = [];
    for (const meta of await this.host.listEntries(prefix)) {
      const entry = await readIfPresent(this.host, meta.path);
      if (entry) files.push({ path: entry.meta.path, hash: entry.meta.checksum!, size: entry.meta.size, content: entry.content });
    }
    const checkpoint = { name: checkpointName, prefix, at, files, ...(options.message === undefined ? {} : { message: options.message }) };
    return this.recorder.store.saveCheckpoint(this.recorder.scope, checkpoint);
  }

  listCheckpoints(): Promise<CheckpointInfo[]> {
    return this.recorder.store.listCheckpoints(this.recorder.scope);
  }

  async restoreCheckpoint(name: string, options: RestoreCheckpointOptions = {}): Promise<CheckpointRestore> {
    const checkpoint = await this.checkpointNamed(name);
    const prefix = options.prefix === undefined ? checkpoint.prefix : normalizePrefix(options.prefix);
    if (!isUnder(prefix, checkpoint.prefix)) {
      throw fsErrors.invalid(`checkpoint ${JSON.stringify(name)} covers ${checkpoint.prefix} only; pass a prefix under it, or none`);
    }
    const plan = planCheckpointRestore(checkpoint.files, await this.currentFiles(prefix), prefix);
    const result: CheckpointRestore = {
      checkpoint: checkpoint.name,
      dryRun: options.dryRun === true,
      written: plan.write.map((f) => f.path),
      created: plan.create.map((f) => f.path),
      deleted: plan.delete,
      unchanged: plan.unchanged,
    };
    if (result.dryRun) return result;
    const change = writeOptions(options);
    // Deletes first (a file the checkpoint has may sit where a directory is now), then the writes, in batches:
    // each one change, journaled as one record, with the contents of its files read in one query.
    const items: Array<{ path: string; hash?: string; size?: number }> = [...plan.delete.map((path) => ({ path })), ...plan.write, ...plan.create];
    for (const chunk of batchesOf(items)) {
      const files = chunk.filter((item): item is CheckpointFile => item.hash !== undefined);
      const contents = files.length === 0 ? new Map<string, Uint8Array>() : await this.contentsOf(files);
      await this.host.applyBatch(
        chunk.map((item) => (item.hash === undefined ? { path: item.path, delete: true as const } : { path: item.path, content: contents.get(item.hash)! })),
        change,
      );
    }
    return result;
  }

  /** Deletes a checkpoint; the versions only it referenced become prunable by retention. */
  async deleteCheckpoint(name: string): Promise<void> {
    await this.checkpointNamed(name);
    // A concurrent delete may win between the check and this call: the name is gone either way.
    if (!(await this.recorder.store.deleteCheckpoint(this.recorder.scope, name))) throw noCheckpoint(name);
  }

  async diffCheckpoint(a: string, b?: string): Promise<CheckpointDiff> {
    const from = await this.checkpointNamed(a);
    if (b !== undefined) {
      const to = await this.checkpointNamed(b);
      return diffFiles({ name: from.name, files: filesUnder(from.files, '/') }, { name: to.name, files: filesUnder(to.files, '/') });
    }
    return diffFiles({ name: from.name, files: filesUnder(from.files, from.prefix) }, { name: 'current', files: await this.currentFiles(from.prefix) });
  }

  private async versionOf(path: string, revision: number): Promise<HistoryVersion> {
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      throw fsErrors.invalid(`revision must be a positive integer from history(path), got ${String(revision)}`, path);
    }
    await this.recorder.drain();
    const version = await this.recorder.store.version(this.recorder.scope, path, revision);
    if (!version) {
      throw new ScopeFsError('ENOENT', `no revision ${revision} of ${path}; list its revisions with history(${JSON.stringify(path)})`, { path });
    }
    return version;
  }

  private async contentOf(path: string, hash: string, revision?: number): Promise<Uint8Array> {
    const content = await this.recorder.store.content(this.recorder.scope, hash);
    if (!content) throw pruned(path, revision === undefined ? `version ${hash.slice(0, 12)}` : `revision ${revision}`);
    return content;
  }

  /** The contents of a chunk of manifest files in one read; ENOENT naming the first whose content was pruned. */
  private async contentsOf(files: readonly CheckpointFile[]): Promise<Map<string, Uint8Array>> {
    const contents = await this.recorder.store.contents(this.recorder.scope, files.map((file) => file.hash));
    const missing = files.find((file) => !contents.has(file.hash));
    if (missing) throw pruned(missing.path, `version ${missing.hash.slice(0, 12)}`);
    return contents;
  }

  private async checkpointNamed(name: string) {
    if (typeof name !== 'string' || name === '') throw fsErrors.invalid('a checkpoint name must be a non-empty string; list them with listCheckpoints()');
    const checkpoint = await this.recorder.store.checkpoint(this.recorder.scope, name);
    if (!checkpoint) throw noCheckpoint(name);
    return checkpoint;
  }

  /** The files under `prefix` now, with their hashes (loading those never loaded). */
  private async currentFiles(prefix: string): Promise<Map<string, CurrentFile>> {
    const files = new Map<string, CurrentFile>();
    for (const meta of await this.host.listEntries(prefix)) {
      if (meta.checksum !== undefined) {
        files.set(meta.path, { hash: meta.checksum, size: meta.size });
        continue;
      }
      const entry = await readIfPresent(this.host, meta.path);
      if (entry) files.set(entry.meta.path, { hash: entry.meta.checksum!, size: entry.meta.size });
    }
    return files;
  }
}

/** The entry at `path`, or undefined when it went away since it was listed. */
async function readIfPresent(host: HistoryHost, path: string): Promise<FileEntry<Uint8Array> | undefined> {
  try {
    return await host.readEntry(path, { encoding: 'bytes' });
  } catch (err) {
    if (err instanceof ScopeFsError && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

function noCheckpoint(name: string): ScopeFsError {
  return new ScopeFsError('ENOENT', `no checkpoint named ${JSON.stringify(name)}; list them with listCheckpoints()`);
}

function pruned(path: string, which: string): ScopeFsError {
  return new ScopeFsError('ENOENT', `the content of ${which} of ${path} is no longer in the history (pruned)`, { path });
}

function writeOptions(options: { ifRevision?: number; actor?: string }): WriteOptions {
  const write: WriteOptions = {};
  if (options.ifRevision !== undefined) write.ifRevision = options.ifRevision;
  if (options.actor !== undefined) write.actor = options.actor;
  return write;
}

function limitOf(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit <= 0) throw fsErrors.invalid(`limit must be a positive integer, got ${String(limit)}`);
  return limit;
}
