/**
 * The SQL history on SQLite (better-sqlite3), used three ways: inside the
 * SQLite store's file (its own connection to the same WAL database), on a
 * local `.scopefs/history.db` for scopes without a store, and on `:memory:`
 * for the memory store. One implementation, so all three behave alike.
 *
 * Every method runs in one transaction (writes hold SQLite's write lock from
 * the start), so several processes sharing the file agree on revisions.
 * better-sqlite3 is synchronous: a writer waits at most `busyTimeoutMs` for
 * another connection's lock, blocking the event loop meanwhile.
 */
import Database from 'better-sqlite3';
import { asBuffer } from '../../src/content.js';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { normalizePrefix } from '../../src/paths.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import * as input from './history-input.js';
import { diffManifest } from './manifest-diff.js';
import { HISTORY_SQL, type HistoryStatement } from './sqlite-history-sql.js';
import { pruneSteps, type PruneCandidate, type PruneTables } from './prune-steps.js';
import type {
  Checkpoint, CheckpointFile, CheckpointInfo, HistoryStore, HistoryVersion, NewCheckpoint, NewVersion,
  PruneBudget, PruneResult, Retention, VersionsQuery,
} from './types.js';

export interface SqliteHistoryOptions {
  /** The database file, or ':memory:'. */
  file: string;
  /** How long a write waits for another connection's lock (default 5 s). */
  busyTimeoutMs?: number;
  /**
   * `PRAGMA synchronous` of this connection. FULL (the default) fsyncs the
   * WAL on every commit: a file other processes share (a SQLite store's)
   * hands out revisions they agree on, which a power cut must not take
   * back. NORMAL survives a killed process too and fsyncs only at
   * checkpoints: for a history only one process writes, where an fsync per
   * recording round was a stall of up to a quarter second on a busy disk.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

interface Head { revision: number; checkpointSeq: number; bytes: number }
interface PathState { latest: number; hash: string | null; deleted: number; count: number }
type RawVersion = Omit<HistoryVersion, 'deleted' | 'actor' | 'instance'> & { deleted: number; actor: string | null; instance: string | null };
type RawCheckpoint = Omit<CheckpointInfo, 'message'> & { message: string | null; seq: number };

export class SqliteHistory implements HistoryStore {
  readonly location: string;
  private readonly db: Database.Database;
  private readonly statements: Record<HistoryStatement, Database.Statement>;

  constructor(options: SqliteHistoryOptions) {
    this.location = options.file;
    // History holds every version of every file: only its owner may read it.
    this.db = openPrivateSqlite(options.file, { label: 'history', busyTimeoutMs: options.busyTimeoutMs, synchronous: options.synchronous ?? 'FULL' }, (path, timeout) => new Database(path, { timeout }));
    this.statements = Object.fromEntries(
      Object.entries(HISTORY_SQL).map(([name, sql]) => [name, this.db.prepare(sql)]),
    ) as Record<HistoryStatement, Database.Statement>;
  }

  async record(scope: string, versions: readonly NewVersion[]): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    if (!Array.isArray(versions)) throw new ScopeFsError('EINVAL', 'history record needs an array of versions');
    for (const version of versions) input.checkNewVersion(version);
    return this.write('record', () => {
      const head = this.head(scope);
      const recorded = versions.flatMap((version) => this.recordOne(scope, head, version) ?? []);
      if (recorded.length > 0) this.run('saveHead', { scope, ...head });
      return recorded;
    });
  }

  async versions(scope: string, path: string, query?: VersionsQuery): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    input.checkText('path', path);
    const { limit, before } = input.checkVersionsQuery(query);
    return this.read('versions', () => this.all<RawVersion>('versions', scope, path, before, limit).map(toVersion));
  }

  async version(scope: string, path: string, revision: number): Promise<HistoryVersion | null> {
    input.checkText('scope', scope);
    input.checkText('path', path);
    input.checkRevisionArg(revision);
    return this.read('version', () => {
      const raw = this.get<RawVersion>('version', scope, path, revision);
      return raw ? toVersion(raw) : null;
    });
  }

  async content(scope: string, hash: string): Promise<Uint8Array | null> {
    input.checkText('scope', scope);
    input.checkText('hash', hash);
    return this.read('content', () => this.get<{ content: Buffer }>('content', scope, hash)?.content ?? null);
  }

  async contents(scope: string, hashes: readonly string[]): Promise<Map<string, Uint8Array>> {
    input.checkText('scope', scope);
    const list = JSON.stringify([...new Set(input.checkHashes(hashes))]);
    return this.read('contents', () =>
      new Map(this.all<{ hash: string; content: Buffer }>('contents', scope, list).map((row) => [row.hash, row.content])),
    );
  }

  async deleted(scope: string, prefix = '/', limit = input.DEFAULT_VERSIONS_LIMIT): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    const checkedPrefix = normalizePrefix(prefix);
    const checkedLimit = input.checkLimit('deleted limit', limit);
    return this.read('deleted', () =>
      this.all<RawVersion>('deleted', { scope, prefix: checkedPrefix, limit: checkedLimit }).map(toVersion),
    );
  }

  async saveCheckpoint(scope: string, checkpoint: NewCheckpoint): Promise<CheckpointInfo> {
    input.checkText('scope', scope);
    const prefix = input.checkNewCheckpoint(checkpoint);
    return this.write('save checkpoint', () => {
      if (this.get('checkpoint', scope, checkpoint.name)) throw input.checkpointExists(checkpoint.name);
      const head = this.head(scope);
      const seq = ++head.checkpointSeq;
      this.applyManifestDiff(scope, prefix, seq, head, checkpoint.files);
      const info: CheckpointInfo = {
        name: checkpoint.name,
        ...(checkpoint.message === undefined ? {} : { message: checkpoint.message }),
        prefix,
        at: checkpoint.at,
        fileCount: checkpoint.files.length,
        bytes: checkpoint.files.reduce((sum, file) => sum + file.size, 0),
      };
      this.run('insertCheckpoint', { scope, ...info, message: info.message ?? null, seq });
      this.run('saveHead', { scope, ...head });
      return info;
    });
  }

  async checkpoint(scope: string, name: string): Promise<Checkpoint | null> {
    input.checkText('scope', scope);
    input.checkCheckpointName(name);
    return this.read('checkpoint', () => {
      const raw = this.get<RawCheckpoint>('checkpoint', scope, name);
      if (!raw) return null;
      const files = this.all<CheckpointFile>('manifest', { scope, prefix: raw.prefix, seq: raw.seq });
      return { ...toCheckpointInfo(raw), files };
    });
  }

  async listCheckpoints(scope: string): Promise<CheckpointInfo[]> {
    input.checkText('scope', scope);
    return this.read('list checkpoints', () => this.all<RawCheckpoint>('checkpoints', scope).map(toCheckpointInfo));
  }

  async deleteCheckpoint(scope: string, name: string): Promise<boolean> {
    input.checkText('scope', scope);
    input.checkCheckpointName(name);
    return this.write('delete checkpoint', () => {
      const raw = this.get<RawCheckpoint>('checkpoint', scope, name);
      if (!raw) return false;
      this.run('deleteCheckpoint', scope, name);
      const hashes = this.all<{ hash: string }>('dropOrphanEntries', { scope, prefix: raw.prefix }).map((row) => row.hash);
      const head = this.head(scope);
      for (const hash of new Set(hashes)) this.dropContentIfUnreferenced(scope, head, hash);
      this.run('saveHead', { scope, ...head });
      return true;
    });
  }

  async prune(scope: string, retention: Retention, budget: PruneBudget): Promise<PruneResult> {
    input.checkText('scope', scope);
    input.checkRetention(retention, budget);
    return this.write('prune', () => {
      const head = this.head(scope);
      const result = pruneSteps(this.pruneTables(scope, head), retention, budget);
      this.run('saveHead', { scope, ...head });
      return result;
    });
  }

  async storedBytes(scope: string): Promise<number> {
    input.checkText('scope', scope);
    return this.read('stored bytes', () => this.head(scope).bytes);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private recordOne(scope: string, head: Head, version: NewVersion): HistoryVersion | null {
    const state = this.get<PathState>('pathState', scope, version.path);
    const deleted = version.content === null;
    if (deleted ? !state || state.deleted === 1 : state?.deleted === 0 && state.hash === version.hash) return null;
    const size = version.content?.byteLength ?? 0;
    if (version.content && version.hash) this.storeContent(scope, head, version.hash, version.content);
    const recorded: HistoryVersion = {
      path: version.path,
      revision: ++head.revision,
      hash: version.hash,
      size,
      at: version.at,
      origin: version.origin,
      ...(version.actor === undefined ? {} : { actor: version.actor }),
      ...(version.instance === undefined ? {} : { instance: version.instance }),
      deleted,
    };
    this.run('insertVersion', { scope, ...recorded, actor: version.actor ?? null, instance: version.instance ?? null, deleted: deleted ? 1 : 0 });
    this.run('savePath', {
      scope, path: version.path, latest: recorded.revision, hash: version.hash, deleted: deleted ? 1 : 0, count: (state?.count ?? 0) + 1,
    });
    return recorded;
  }

  private storeContent(scope: string, head: Head, hash: string, content: Uint8Array): void {
    // One statement, not a lookup and an insert: most writes bring new content.
    if (this.run('insertContent', scope, hash, content.byteLength, asBuffer(content)).changes > 0) head.bytes += content.byteLength;
  }

  private applyManifestDiff(scope: string, prefix: string, seq: number, head: Head, files: NewCheckpoint['files']): void {
    const current = new Map(this.all<CheckpointFile>('currentEntries', scope, prefix).map((entry) => [entry.path, entry]));
    const { close, open } = diffManifest(current, files);
    for (const path of close) this.run('closeEntry', { scope, prefix, path, seq });
    for (const file of open) {
      if (file.content) this.storeContent(scope, head, file.hash, file.content);
      else if (!this.get('hasContent', scope, file.hash)) throw input.missingContent(file.path, file.hash);
      this.run('openEntry', { scope, prefix, path: file.path, seq, hash: file.hash, size: file.size });
    }
  }

  private dropContentIfUnreferenced(scope: string, head: Head, hash: string | null): void {
    if (hash === null) return;
    const dropped = this.get<{ size: number }>('dropUnreferencedContent', { scope, hash });
    if (dropped) head.bytes -= dropped.size;
  }

  private pruneTables(scope: string, head: Head): PruneTables {
    return {
      bytes: () => head.bytes,
      byAge: (cutoff, limit) => this.all<PruneCandidate>('prunableByAge', { scope, cutoff, limit }),
      beyondCount: (max, limit) => this.all<PruneCandidate>('prunableBeyondCount', { scope, max, limit }),
      oldest: (limit) => this.all<PruneCandidate>('prunableOldest', { scope, limit }),
      remove: (candidate) => {
        this.run('deleteVersion', scope, candidate.revision);
        this.run('countDown', scope, candidate.path);
        this.dropContentIfUnreferenced(scope, head, candidate.hash);
      },
    };
  }

  private head(scope: string): Head {
    return this.get<Head>('head', scope) ?? { revision: 0, checkpointSeq: 0, bytes: 0 };
  }

  private get<T>(name: HistoryStatement, ...args: unknown[]): T | undefined {
    return this.statements[name].get(...args) as T | undefined;
  }

  private all<T>(name: HistoryStatement, ...args: unknown[]): T[] {
    return this.statements[name].all(...args) as T[];
  }

  private run(name: HistoryStatement, ...args: unknown[]): Database.RunResult {
    return this.statements[name].run(...args);
  }

  private read<T>(operation: string, work: () => T): T {
    return this.guard(operation, () => this.db.transaction(work).deferred());
  }

  private write<T>(operation: string, work: () => T): T {
    return this.guard(operation, () => this.db.transaction(work).immediate());
  }

  private guard<T>(operation: string, work: () => T): T {
    if (!this.db.open) throw new ScopeFsError('EIO', `history ${this.location} is closed (${operation})`);
    try {
      return work();
    } catch (err) {
      if (isScopeFsError(err)) throw err;
      throw new ScopeFsError('EIO', `history ${this.location}: ${operation} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}

function toVersion(raw: RawVersion): HistoryVersion {
  return {
    path: raw.path,
    revision: raw.revision,
    hash: raw.hash,
    size: raw.size,
    at: raw.at,
    origin: raw.origin,
    ...(raw.actor === null ? {} : { actor: raw.actor }),
    ...(raw.instance === null ? {} : { instance: raw.instance }),
    deleted: raw.deleted === 1,
  };
}

function toCheckpointInfo(raw: RawCheckpoint): CheckpointInfo {
  return {
    name: raw.name,
    ...(raw.message === null ? {} : { message: raw.message }),
    prefix: raw.prefix,
    at: raw.at,
    fileCount: raw.fileCount,
    bytes: raw.bytes,
  };
}
