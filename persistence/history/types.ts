/**
 * History: every version of every path of a scope, content-addressed (one
 * copy of each distinct content per scope), plus named checkpoints (a
 * manifest path -> hash) and bounded, incremental retention.
 *
 * Values in, values out: implementations never hand out objects they keep.
 * `scope` is the sync app for a store's history, or a fixed name for a local
 * one. Paths are the filesystem's absolute paths (`/a/b.md`); the history
 * does not validate them beyond "non-empty string without NUL", the
 * filesystem does.
 *
 * Implementations: persistence/history/sqlite-history.ts (memory, SQLite
 * store, local `.scopefs/history.db`), all passing
 * test/persistence/history-contract.ts.
 */
import type { Origin } from '../../src/types.js';

/** One recorded version of one path. */
export interface HistoryVersion {
  path: string;
  /**
   * Per-history sequence: increases with every recorded version of the scope
   * (any path), stable across restarts and instances sharing the history.
   * Not EntryMeta.revision, nor a store revision.
   */
  revision: number;
  /** sha256 hex of the content; null for a deletion. */
  hash: string | null;
  /** Bytes of the content; 0 for a deletion. */
  size: number;
  /** When the version was made, ms since the epoch (the caller's clock). */
  at: number;
  /** What made it: a local call, a disk edit, sync, or journal replay. */
  origin: Origin;
  /** Who: an agent or token name, when known. */
  actor?: string;
  /** The instance id that made it, when known. */
  instance?: string;
  /** True for a deletion. */
  deleted: boolean;
}

/** A version to record. */
export interface NewVersion {
  path: string;
  /** The content; null records a deletion. */
  content: Uint8Array | null;
  /** sha256 hex of `content` (null for a deletion); checked against the content. */
  hash: string | null;
  at: number;
  origin: Origin;
  actor?: string;
  instance?: string;
}

export interface VersionsQuery {
  /** At most this many versions (default 100, at most 10,000). */
  limit?: number;
  /** Only versions with a revision lower than this (paging: pass the last revision you got). */
  before?: number;
}

/** One file of a checkpoint manifest. */
export interface CheckpointFile {
  path: string;
  hash: string;
  size: number;
}

export interface NewCheckpoint {
  /** Unique in the scope: non-empty, at most 200 characters, no NUL or control characters. */
  name: string;
  message?: string;
  /** The prefix the manifest covers ('/' for the whole scope). */
  prefix: string;
  /** ms since the epoch. */
  at: number;
  /**
   * Every file of the manifest. Each hash's content must already be recorded
   * (by `record`) or be passed here as `content`.
   */
  files: ReadonlyArray<CheckpointFile & { content?: Uint8Array }>;
}

/** A checkpoint without its manifest. */
export interface CheckpointInfo {
  name: string;
  message?: string;
  prefix: string;
  at: number;
  /** Files in the manifest. */
  fileCount: number;
  /** Sum of the manifest's file sizes. */
  bytes: number;
}

/** A checkpoint with its manifest, files ascending by path. */
export interface Checkpoint extends CheckpointInfo {
  files: CheckpointFile[];
}

/** Retention limits; absent ones do not apply. */
export interface Retention {
  /** Keep at most this many versions of each path (the latest always stays). */
  maxVersionsPerPath?: number;
  /** Drop versions made more than this long before `now`. */
  maxAgeMs?: number;
  /** Drop the oldest versions while the scope's stored content is over this many bytes. */
  maxBytes?: number;
}

export interface PruneBudget {
  /** At most this many version rows removed by one call. */
  maxRows: number;
  /** The clock for maxAgeMs (default Date.now()). */
  now?: number;
}

export interface PruneResult {
  /** Version rows removed. */
  removed: number;
  /** True when the limits still remove more: call prune again. */
  more: boolean;
}

export interface HistoryStore {
  /**
   * Records versions in order, in one transaction, and returns the ones
   * actually recorded (in input order). Idempotent: a version whose hash
   * equals its path's latest recorded hash, or a deletion of a path whose
   * latest version is a deletion (or that has none), is not recorded again,
   * so a replay after a crash records nothing twice.
   */
  record(scope: string, versions: readonly NewVersion[]): Promise<HistoryVersion[]>;
  /** A path's versions, newest first. */
  versions(scope: string, path: string, query?: VersionsQuery): Promise<HistoryVersion[]>;
  /** One version by its history revision, or null. */
  version(scope: string, path: string, revision: number): Promise<HistoryVersion | null>;
  /** The content of a hash recorded in this scope, or null. */
  content(scope: string, hash: string): Promise<Uint8Array | null>;
  /** The contents of several hashes in one read: the hashes found, each once (a restore reads a chunk per call). */
  contents(scope: string, hashes: readonly string[]): Promise<Map<string, Uint8Array>>;
  /** The latest versions (deletions) of paths under `prefix` whose latest version is a deletion, newest first. */
  deleted(scope: string, prefix: string, limit?: number): Promise<HistoryVersion[]>;
  /**
   * Saves a named manifest. Costs rows proportional to what changed since the
   * previous checkpoint of the same prefix, not to the manifest's size.
   * EEXIST when the name is taken; EINVAL when a hash has no content.
   */
  saveCheckpoint(scope: string, checkpoint: NewCheckpoint): Promise<CheckpointInfo>;
  /** A checkpoint with its manifest, or null. */
  checkpoint(scope: string, name: string): Promise<Checkpoint | null>;
  /** Every checkpoint, newest first. */
  listCheckpoints(scope: string): Promise<CheckpointInfo[]>;
  /** Deletes a checkpoint (its versions become prunable); false when there was none. */
  deleteCheckpoint(scope: string, name: string): Promise<boolean>;
  /**
   * Removes versions beyond the retention limits, oldest first, at most
   * `budget.maxRows` per call. Never removes a path's latest version nor a
   * version whose (path, hash) a checkpoint references; drops content no
   * version or checkpoint references any more.
   */
  prune(scope: string, retention: Retention, budget: PruneBudget): Promise<PruneResult>;
  /** Bytes of distinct content stored for the scope. */
  storedBytes(scope: string): Promise<number>;
  close(): Promise<void>;
}
