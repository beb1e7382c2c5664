import type { ConflictRecord, ConflictResolution } from '../sync/types.js';
import type { EntryMeta, FlushResult, MoveResult } from '../types.js';
import type { ScopeStatus } from '../http/status.js';
import type { ControlOutcome, SyncControl } from '../http/routes/sync.js';
import type { HistoryOps } from './history-ops.js';

/**
 * What the file and sync commands act on: the running serve for the root
 * (over its HTTP API), or the scope opened directly in this process.
 */
export interface ScopeTarget {
  readonly mode: 'serve' | 'direct';
  /** Versions, restore and checkpoints (history-ops.ts). */
  readonly history: HistoryOps;
  list(prefix: string): Promise<EntryMeta[]>;
  read(path: string): Promise<{ bytes: Uint8Array; revision: number }>;
  write(path: string, content: Uint8Array, ifRevision?: number): Promise<EntryMeta>;
  move(from: string, to: string): Promise<MoveResult>;
  remove(path: string): Promise<void>;
  flush(): Promise<FlushResult>;
  status(): Promise<ScopeStatus>;
  conflicts(): Promise<ConflictRecord[]>;
  resolve(path: string, resolution: ConflictResolution): Promise<void>;
  /** pause, resume, confirm or resync sync (direct mode: resync only; the others act on a running serve). */
  control(control: SyncControl): Promise<ControlOutcome>;
  /** Direct mode: waits (bounded) until sync has pushed and pulled; true when it got there. */
  settle(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}
