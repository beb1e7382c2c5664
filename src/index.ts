// Public API of scopefs.

// Scopes: the supervised per-scope tree and its handle.
export { startScope, getScope, stopAllScopes, type RunningScope, type ScopeOptions } from '../supervisors/scope/scopes.js';
export type { AgentSpec, AgentContext } from '../supervisors/scope/agent.js';

// The filesystem actor.
export { FileSystemServer, type FileSystemServerOptions } from './fs/file-system-server.js';
export type * from './types.js';
export * from './errors.js';
export { normalizePath, normalizePrefix, MAX_PATH_BYTES, MAX_SEGMENT_BYTES } from './paths.js';
export { sha256 } from './content.js';

// Actor runtime and supervision.
export * from '../supervisors/runtime/actor.js';
export { Supervisor, type SupervisorOptions, type Strategy, type ChildEvent } from '../supervisors/runtime/supervisor.js';
export type { ChildSpec, RestartType } from '../supervisors/runtime/child.js';
export { DynamicSupervisor, type DynamicSupervisorOptions } from '../supervisors/runtime/dynamic-supervisor.js';
export { Registry } from '../supervisors/runtime/registry.js';
export { canonicalScopeKey, ScopeRegistry } from '../supervisors/scope/scope-key.js';

// Persistence drivers.
export type * from '../persistence/drivers/types.js';
export { MemoryDriver, type MemoryDriverOptions } from '../persistence/drivers/memory.js';
export { DiskDriver, type DiskDriverOptions } from '../persistence/drivers/disk.js';

// Sync stores.
export * from '../persistence/stores/types.js';
export { MemoryStore, sharedMemoryStore, type MemoryStoreOptions } from '../persistence/stores/memory-store.js';
export { SqliteStore, type SqliteStoreOptions } from '../persistence/stores/sqlite-store.js';
export { openStore, registerStoreScheme, type StoreFactory } from '../persistence/stores/open-store.js';

// Sync engine: options, status types and the pure decision functions.
export type { SyncOptions } from './sync/sync-actor.js';
export type * from './sync/types.js';
export { reconcile, RECONCILE_TABLE, type ReconcileAction, type ReconcileCase } from './sync/reconcile.js';
export { mergeContent, mergeKindFor, type MergeKind, type MergeResult } from './sync/merge/index.js';
export { parseSyncConfig, createSyncMatcher, type SyncConfig, type SyncDecision } from './sync/patterns.js';
export { deniedReason } from './sync/denylist.js';
export { conflictCopyPath, isConflictCopy, conflictOriginal } from './sync/conflict-copy.js';

// Interfaces: the app factory, the HTTP server and the MCP server.
export {
  createFileSync,
  type FileSyncOptions,
  type FileSyncResult,
  type FileSyncEvents,
  type FileSyncEventMap,
  type FileSyncBackend,
} from './file-sync.js';
export { startHttpServer, type HttpServerOptions, type HttpServerHandle } from './http/server.js';
export { loadOrCreateToken, isLoopbackHost, type AuthConfig } from './http/auth.js';
export { createMcpServer, type McpServerInfo } from './mcp/server.js';
export { serveStdio, bridgeStdioToHttp } from './mcp/stdio.js';

// Stores over SQL (loaded on demand by openStore for postgres:// and supabase: URLs).
export { migrate } from '../persistence/sql/migrate.js';
export { PostgresStore } from '../persistence/stores/postgres-store.js';
export { SupabaseStore } from '../persistence/stores/supabase-store.js';
