import { isScopeFsError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import type { SyncStatus } from '../sync/types.js';
import type { ChildInfo, FsStats, ScopeHandle } from '../types.js';

/** The sync part of a status: the engine's full status, or why there is none. */
export type SyncStatusView = SyncStatus | { enabled: false } | { enabled: true; connected: false; state: 'restarting' };

export interface ScopeStatus {
  scope: string;
  root: string | null;
  sync: SyncStatusView;
  files: FsStats;
  /** The scope's supervision tree: children, their state and restart counts. */
  tree: ChildInfo[];
  /** JSONL tailing (docs/tail.md): per source files, offsets, lag, errors; absent without tail sources. */
  tail?: import('../tail/scope-tail.js').TailReport;
  /** Webhooks (docs/webhooks.md): subscriptions, pending and delivered counts, the dead letters; absent without any. */
  webhooks?: import('../webhooks/types.js').WebhookStatus;
}

/** What `GET /api/file-sync/status` answers: just enough for an app's indicator. */
export interface FileSyncStatus {
  enabled: boolean;
  connected: boolean;
  /** Number of unresolved conflicts. */
  conflicts: number;
}

export async function scopeStatus(scope: ScopeHandle): Promise<ScopeStatus> {
  const [sync, files] = await Promise.all([syncStatus(scope), scope.fs.stats()]);
  const tail = scope.tail?.status();
  const status: ScopeStatus = { scope: scope.key, root: scope.root ?? null, sync, files, tree: scope.tree() };
  if (tail && (tail.sources.length > 0 || tail.configErrors.length > 0)) status.tail = tail;
  const webhooks = scope.webhooks?.status();
  if (webhooks && (webhooks.subscriptions > 0 || webhooks.pending + webhooks.dead.length > 0)) status.webhooks = webhooks;
  return status;
}

export async function fileSyncStatus(scope: Pick<ScopeHandle, 'sync'>): Promise<FileSyncStatus> {
  const sync = await syncStatus(scope);
  if (!sync.enabled) return { enabled: false, connected: false, conflicts: 0 };
  return { enabled: true, connected: sync.connected, conflicts: 'conflicts' in sync ? sync.conflicts.length : 0 };
}

export async function syncStatus(scope: Pick<ScopeHandle, 'sync'>): Promise<SyncStatusView> {
  if (!scope.sync) return { enabled: false };
  try {
    return withoutSecrets(await scope.sync.status());
  } catch (err) {
    // Between a crash and its restart the sync actor cannot answer.
    if (isScopeFsError(err, 'ESTOPPED')) return { enabled: true, connected: false, state: 'restarting' };
    throw err;
  }
}

/** The store is already shown redacted; an error message may still quote a URL from a driver. */
function withoutSecrets(status: SyncStatus): SyncStatus {
  const redacted = { ...status, store: redactSecrets(status.store) };
  if (status.error !== undefined) redacted.error = redactSecrets(status.error);
  return redacted;
}
