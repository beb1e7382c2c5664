/**
 * The history half of a CLI target (target.ts): the same operations on a
 * scope opened in this process and on a running serve (over
 * src/http/routes/history.ts), so both modes answer and fail alike.
 */
import { normalizePath } from '../paths.js';
import type { CheckpointInfo, CheckpointRestore, EntryMeta, FileSystem, HistoryVersion } from '../types.js';

export interface HistoryOps {
  log(path: string, limit?: number): Promise<HistoryVersion[]>;
  cat(path: string, revision: number): Promise<Uint8Array>;
  restore(path: string, revision: number): Promise<EntryMeta>;
  checkpoint(name: string | undefined, options: { message?: string; prefix?: string }): Promise<CheckpointInfo>;
  checkpoints(): Promise<CheckpointInfo[]>;
  rollback(name: string, options: { prefix?: string; dryRun: boolean }): Promise<CheckpointRestore>;
  deleteCheckpoint(name: string): Promise<void>;
}

export function directHistory(fs: FileSystem): HistoryOps {
  return {
    log: (path, limit) => fs.history(path, limit === undefined ? {} : { limit }),
    cat: async (path, revision) => (await fs.readFile(path, { encoding: 'bytes', revision })) as Uint8Array,
    restore: (path, revision) => fs.restore(path, revision),
    checkpoint: (name, options) => fs.checkpoint(name, options),
    checkpoints: () => fs.listCheckpoints(),
    rollback: (name, options) => fs.restoreCheckpoint(name, options),
    deleteCheckpoint: (name) => fs.deleteCheckpoint(name),
  };
}

type Json = <T>(method: string, path: string, body?: unknown) => Promise<T>;
type Call = (method: string, path: string) => Promise<Response>;

export function httpHistory(json: Json, call: Call): HistoryOps {
  return {
    log: async (path, limit) =>
      (await json<{ versions: HistoryVersion[] }>('GET', `/v1/history${encodedPath(path)}${limit === undefined ? '' : `?limit=${limit}`}`)).versions,
    cat: async (path, revision) => new Uint8Array(await (await call('GET', `/v1/files${encodedPath(path)}?revision=${revision}`)).arrayBuffer()),
    restore: (path, revision) => json<EntryMeta>('POST', '/v1/restore', { path, revision }),
    checkpoint: (name, options) => json<CheckpointInfo>('POST', '/v1/checkpoints', { ...(name === undefined ? {} : { name }), ...options }),
    checkpoints: async () => (await json<{ checkpoints: CheckpointInfo[] }>('GET', '/v1/checkpoints')).checkpoints,
    rollback: (name, options) => json<CheckpointRestore>('POST', `/v1/checkpoints/${encodeURIComponent(name)}/restore`, options),
    deleteCheckpoint: async (name) => {
      await call('DELETE', `/v1/checkpoints/${encodeURIComponent(name)}`);
    },
  };
}

/** A path with each segment percent-encoded, validated here first for the same error in both modes. */
function encodedPath(path: string): string {
  return normalizePath(path).split('/').map(encodeURIComponent).join('/');
}
