/**
 * The history of a PostgreSQL or Supabase store: each operation is one call
 * of a server-side function from persistence/sql/migrations/005_history.sql,
 * so it is atomic on the server (the scope's head row serialises writers).
 * Subclass-free: the caller says how a function is called (node-postgres or
 * Supabase RPC). Arguments are checked here, as in the SQLite history.
 */
import { ScopeFsError, isScopeFsError } from '../../src/errors.js';
import { normalizePrefix } from '../../src/paths.js';
import * as input from './history-input.js';
import type { HistoryFunction } from './sql-history-functions.js';
import type {
  Checkpoint, CheckpointInfo, HistoryStore, HistoryVersion, NewCheckpoint, NewVersion, PruneBudget, PruneResult, Retention,
  VersionsQuery,
} from './types.js';

/** Calls `public.<fn>` with named arguments (jsonb ones as JS values) and returns its decoded result. */
export type HistoryCall = (fn: HistoryFunction, args: Record<string, unknown>) => Promise<unknown>;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export class SqlHistory implements HistoryStore {
  constructor(
    private readonly call: HistoryCall,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async record(scope: string, versions: readonly NewVersion[]): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    if (!Array.isArray(versions)) throw new ScopeFsError('EINVAL', 'history record needs an array of versions');
    for (const version of versions) input.checkNewVersion(version);
    if (versions.length === 0) return [];
    const payload = versions.map((v) => ({ ...v, content: v.content && base64(v.content) }));
    return versionsFrom(await this.call('scopefs_history_record', { p_scope: scope, p_versions: payload }));
  }

  async versions(scope: string, path: string, query?: VersionsQuery): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    input.checkText('path', path);
    const { limit, before } = input.checkVersionsQuery(query);
    return versionsFrom(await this.call('scopefs_history_versions', { p_scope: scope, p_path: path, p_before: before, p_limit: limit }));
  }

  async version(scope: string, path: string, revision: number): Promise<HistoryVersion | null> {
    input.checkText('scope', scope);
    input.checkText('path', path);
    input.checkRevisionArg(revision);
    const raw = await this.call('scopefs_history_version', { p_scope: scope, p_path: path, p_revision: revision });
    return raw === null || raw === undefined ? null : versionFrom(raw);
  }

  async content(scope: string, hash: string): Promise<Uint8Array | null> {
    input.checkText('scope', scope);
    input.checkText('hash', hash);
    const raw = await this.call('scopefs_history_content', { p_scope: scope, p_hash: hash });
    return typeof raw === 'string' ? Buffer.from(raw, 'base64') : null;
  }

  /** One call per hash, all at once (no SQL function reads several; a pool runs them side by side). */
  async contents(scope: string, hashes: readonly string[]): Promise<Map<string, Uint8Array>> {
    const unique = [...new Set(input.checkHashes(hashes))];
    const found = await Promise.all(unique.map((hash) => this.content(scope, hash)));
    return new Map(unique.flatMap((hash, i) => (found[i] ? [[hash, found[i]] as const] : [])));
  }

  async deleted(scope: string, prefix = '/', limit = input.DEFAULT_VERSIONS_LIMIT): Promise<HistoryVersion[]> {
    input.checkText('scope', scope);
    const args = { p_scope: scope, p_prefix: normalizePrefix(prefix), p_limit: input.checkLimit('deleted limit', limit) };
    return versionsFrom(await this.call('scopefs_history_deleted', args));
  }

  async saveCheckpoint(scope: string, checkpoint: NewCheckpoint): Promise<CheckpointInfo> {
    input.checkText('scope', scope);
    const prefix = input.checkNewCheckpoint(checkpoint);
    const files = checkpoint.files.map((f) => ({ path: f.path, hash: f.hash, size: f.size, ...(f.content ? { content: base64(f.content) } : {}) }));
    try {
      const raw = await this.call('scopefs_history_save_checkpoint', {
        p_scope: scope, p_name: checkpoint.name, p_message: checkpoint.message ?? null, p_prefix: prefix, p_at: checkpoint.at, p_files: files,
      });
      return checkpointInfoFrom(raw);
    } catch (err) {
      if (isUniqueViolation(err)) throw input.checkpointExists(checkpoint.name);
      throw err;
    }
  }

  async checkpoint(scope: string, name: string): Promise<Checkpoint | null> {
    input.checkText('scope', scope);
    input.checkCheckpointName(name);
    const raw = (await this.call('scopefs_history_checkpoint', { p_scope: scope, p_name: name })) as { files?: unknown } | null;
    if (raw === null || raw === undefined) return null;
    const files = (raw.files as Array<{ path: string; hash: string; size: number | string }>).map((f) => ({ path: f.path, hash: f.hash, size: Number(f.size) }));
    return { ...checkpointInfoFrom(raw), files };
  }

  async listCheckpoints(scope: string): Promise<CheckpointInfo[]> {
    input.checkText('scope', scope);
    return ((await this.call('scopefs_history_checkpoints', { p_scope: scope })) as unknown[]).map(checkpointInfoFrom);
  }

  async deleteCheckpoint(scope: string, name: string): Promise<boolean> {
    input.checkText('scope', scope);
    input.checkCheckpointName(name);
    return (await this.call('scopefs_history_delete_checkpoint', { p_scope: scope, p_name: name })) === true;
  }

  async prune(scope: string, retention: Retention, budget: PruneBudget): Promise<PruneResult> {
    input.checkText('scope', scope);
    input.checkRetention(retention, budget);
    const raw = (await this.call('scopefs_history_prune', {
      p_scope: scope,
      p_max_versions: retention.maxVersionsPerPath ?? null,
      p_max_age_ms: retention.maxAgeMs ?? null,
      p_max_bytes: retention.maxBytes ?? null,
      p_max_rows: budget.maxRows,
      p_now: budget.now ?? Date.now(),
    })) as { removed: number; more: boolean };
    return { removed: Number(raw.removed), more: raw.more === true };
  }

  async storedBytes(scope: string): Promise<number> {
    input.checkText('scope', scope);
    return Number(await this.call('scopefs_history_bytes', { p_scope: scope }));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

function isUniqueViolation(err: unknown): boolean {
  if (!isScopeFsError(err)) return false;
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return cause?.code === '23505' || /already exists; choose another name/.test(err.message);
}

function versionsFrom(raw: unknown): HistoryVersion[] {
  return (raw as unknown[]).map(versionFrom);
}

function versionFrom(raw: unknown): HistoryVersion {
  const v = raw as Record<string, unknown>;
  return {
    path: v.path as string,
    revision: Number(v.revision),
    hash: (v.hash as string | null) ?? null,
    size: Number(v.size),
    at: Number(v.at),
    origin: v.origin as HistoryVersion['origin'],
    ...(typeof v.actor === 'string' ? { actor: v.actor } : {}),
    ...(typeof v.instance === 'string' ? { instance: v.instance } : {}),
    deleted: v.deleted === true,
  };
}

function checkpointInfoFrom(raw: unknown): CheckpointInfo {
  const c = raw as Record<string, unknown>;
  return {
    name: c.name as string,
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
    prefix: c.prefix as string,
    at: Number(c.at),
    fileCount: Number(c.fileCount),
    bytes: Number(c.bytes),
  };
}
