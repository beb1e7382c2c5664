// Public API of scopefs: the scope API, the filesystem, stores, errors and
// types. Heavier parts are subpath exports, so importing this entry loads
// none of their dependencies:
//   scopefs/postgres   PostgresStore, migrate (pg)
//   scopefs/supabase   SupabaseStore (supabase-js)
//   scopefs/http       startHttpServer, loadOrCreateToken
//   scopefs/mcp        createMcpServer, serveStdio, bridgeStdioToHttp (the MCP SDK)
// `openStore` still opens postgres:// and supabase: URLs, loading their store on first use.

// Scopes: the supervised per-scope tree and its handle.
// (the tree and the sync engine load on the first call: see scope-api.ts)
export { startScope, getScope, stopAllScopes } from './scope-api.js';
export type { RunningScope, ScopeOptions } from '../supervisors/scope/scopes.js';
export type { AgentSpec, AgentContext } from '../supervisors/scope/agent.js';
export type { AgentEvent, AgentInfo, AgentsHandle, AgentStoppedEvent } from '../supervisors/scope/agents.js';
export type { FileLocks, LockGrant, LockInfo, LockOptions } from './coordination/locks.js';
export type { AuditEntry, AuditLog, AuditQuery, AuditResult, AuditRetention } from './audit/types.js';
export type { AuditOptions } from './audit/scope-audit.js';
export { actingAs } from './audit/audit-fs.js';
export type { TailOption, TailSettings, TailSourceConfig } from './tail/config.js';
export type { ScopeRecords, ScopeTailHandle, TailReport } from './tail/scope-tail.js';
export type { RecordsEvent, TailSourceStatus, TailStatus } from './tail/tailer.js';
export type { TailedFileStatus } from './tail/tail-file.js';
export type { DeliveryInfo, RetryOptions, WebhookAdded, WebhookInfo, WebhookInput, WebhookOptions, WebhookStatus } from './webhooks/types.js';
export type { ScopeWebhooks } from './webhooks/scope-webhooks.js';
export { signPayload, verifyPayload } from './webhooks/signature.js';
export type { RecordError, RecordInput, RecordQuery, RecordSearch, StoredRecord } from '../persistence/records/types.js';
export { canonicalScopeKey, ScopeRegistry, ScopeRegistry as Registry } from '../supervisors/scope/scope-key.js';
// Many scopes under one data directory, started on demand, stopped when idle (docs/multi-scope.md).
export { ScopePool, type ScopePoolOptions, type ScopeListing, type ScopeLease, type ScopeState, type ScopePoolEvents } from '../supervisors/scope/scope-pool.js';
export { scopeDirName, scopeKeyOfDirName, MAX_SCOPE_DIR_NAME } from '../supervisors/scope/scope-dir.js';

// The filesystem actor, its types and errors.
export { FileSystemServer, type FileSystemServerOptions } from './fs/file-system-server.js';
export type { FsCall, FsCast, FsMessage } from './fs/messages.js';
export type { HistoryTarget } from './fs/history-recorder.js';
export type * from './types.js';
export { ScopeFsError, isScopeFsError, type ErrorCode } from './errors.js';
export { normalizePath, normalizePrefix, MAX_PATH_BYTES, MAX_SEGMENT_BYTES } from './paths.js';
export { sha256 } from './content.js';

// The actor runtime the tree is built from, for apps that supervise their own actors.
export { Actor, type ActorCallbacks, type ActorOptions, type ExitReason, type Process, type ProcessStatus } from '../supervisors/runtime/actor.js';
export { Supervisor, type SupervisorOptions, type Strategy, type ChildEvent } from '../supervisors/runtime/supervisor.js';
export type { ChildSpec, RestartType } from '../supervisors/runtime/child.js';
export { DynamicSupervisor, type DynamicSupervisorOptions } from '../supervisors/runtime/dynamic-supervisor.js';

// Persistence drivers: where a scope's files live.
export type * from '../persistence/drivers/types.js';
export { MemoryDriver, type MemoryDriverOptions } from '../persistence/drivers/memory.js';
export { DiskDriver, type DiskDriverOptions } from '../persistence/drivers/disk.js';

// Sync stores: the database instances sync through.
export { SHARED_OWNER } from '../persistence/stores/types.js';
export type * from '../persistence/stores/types.js';
export { MemoryStore, sharedMemoryStore, type MemoryStoreOptions, type MemoryStoreOp } from '../persistence/stores/memory-store.js';
export { SqliteStore, type SqliteStoreOptions } from '../persistence/stores/sqlite-store.js';
export { openStore, type OpenStoreOptions, type StoreFactory } from '../persistence/stores/open-store.js';

// Sync: options, status types, the sync-config.json shape, conflict and resolved copies.
export type { SyncOptions } from './sync/sync-actor.js';
export type * from './sync/types.js';
export type { SyncConfig, SyncDecision } from './sync/patterns.js';
export { isConflictCopy, conflictOriginal, resolvedCopyOf } from './sync/conflict-copy.js';
// Conflict strategies per path pattern (docs/sync.md, "Conflict strategies").
export { CONFLICT_STRATEGIES } from './sync/strategies.js';
export type { AppliedRule, ConflictStrategy, HeldPath, PathHeldEvent, RuleSource, StrategyAppliedEvent, StrategyRule } from './sync/strategies.js';

// The app factory: sync around a content folder, configured from the environment.
export {
  createFileSync,
  type FileSyncOptions,
  type FileSyncResult,
  type FileSyncEvents,
  type FileSyncEventMap,
  type FileSyncBackend,
} from './file-sync.js';
