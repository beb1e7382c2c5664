import type { Content } from '../types.js';
import type { ConflictStrategy, HeldPath, PathHeldEvent, StrategyAppliedEvent } from './strategies.js';

/** The sync actor's connection lifecycle (an xstate machine). */
export type SyncState = 'offline' | 'connecting' | 'catching_up' | 'live' | 'backing_off' | 'paused' | 'stopped';

export interface ConflictRecord {
  type: 'conflict-needs-llm';
  path: string;
  /** Where the remote version was written, beside the local file. */
  copyPath: string;
  /** First 500 characters of each side. */
  localSnippet: string;
  remoteSnippet: string;
  remoteRevision: number;
  remoteInstance: string;
  detectedAt: string;
  /** The conflict strategy that left the conflict open (`merge` that failed, or `manual`), and the rule that chose it. */
  strategy?: ConflictStrategy;
  rule?: string;
}

export interface SyncFailure {
  path: string;
  error: string;
  at: string;
  attempts: number;
  /** The maximum attempts were reached: no more retries until the file changes. */
  gaveUp?: boolean;
}

export interface SyncStatus {
  enabled: boolean;
  connected: boolean;
  state: SyncState;
  /** Paths with an unresolved conflict. */
  conflicts: string[];
  lastSyncedAt: string | null;
  /** Paths whose local hash differs from their base. */
  pending: string[];
  failedPaths: string[];
  /** Failed paths sync stopped retrying (after the maximum attempts), with the last error; present when any. */
  gaveUp?: SyncFailure[];
  cursor: number;
  instanceId: string;
  store: string;
  /** Paths a `fail-stop` rule holds: nothing is applied to them until they are resolved (resolveConflict). */
  held?: HeldPath[];
  /** Why sync is paused (safety gate, malformed config, manual pause). */
  pausedReason?: string;
  /** Last connection or configuration error. */
  error?: string;
}

/** What `resync()` did: ran the full pass now, or (store not connected) made the next pass full. */
export interface ResyncResult {
  ran: boolean;
  /** The sync state after it. */
  state: SyncState;
}

export type ConflictResolution = 'local' | 'remote' | { content: Content };

export type SyncEvent =
  | { type: 'sync_state'; state: SyncState; previous: SyncState; reason?: string }
  | { type: 'conflict'; conflict: ConflictRecord }
  | { type: 'conflict_resolved'; path: string; resolution: 'local' | 'remote' | 'content' | 'edited' }
  | { type: 'synced'; direction: 'push' | 'pull'; paths: string[]; cursor: number }
  /** A pass's progress through the paths it has work for (throttled; `done === total` at the end). */
  | { type: 'sync_progress'; done: number; total: number }
  | StrategyAppliedEvent
  | PathHeldEvent;

export interface SyncHandle {
  status(): Promise<SyncStatus>;
  conflicts(): Promise<ConflictRecord[]>;
  resolveConflict(path: string, resolution: ConflictResolution): Promise<void>;
  /** Resolves once nothing is pending and the cursor has caught up with the store's head. */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Lets a reconciliation held by the safety gate go ahead; EINVAL when the gate holds nothing. */
  confirm(): Promise<void>;
  /** A full pass on demand (every local file and every known path); EPAUSED while paused. */
  resync(): Promise<ResyncResult>;
  subscribe(listener: (event: SyncEvent) => void): () => void;
}
