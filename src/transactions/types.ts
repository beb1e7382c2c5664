/**
 * The data of transactions (docs/transactions.md): what a caller passes,
 * what a commit answers, and the events a scope's transactions emit.
 */

export interface TransactionOptions {
  /** Names the run: in events, and in the checkpoint a commit records. Default `tx-<id>`. */
  name?: string;
  /** `fail` (default): a conflict commits nothing. `copy`: commit what merged, keep the rest as conflict copies. */
  onConflict?: 'fail' | 'copy';
  /** Aborts the transaction when it fires: nothing of it becomes visible. */
  signal?: AbortSignal;
  /** Who runs it (an agent id, a token): carried into every change, the history and the events. */
  actor?: string;
  /** Record the commit as a checkpoint named after the run (default true). */
  checkpoint?: boolean;
}

/** One path the commit changed: its new revision, or its deletion. */
export interface TransactionChange {
  path: string;
  change: 'written' | 'deleted';
  /** The live revision after the commit; absent for a deletion. */
  revision?: number;
  /** The file and the live version were merged three ways (the live one had changed since the start). */
  merged?: boolean;
}

/** A path changed both in the transaction and outside it since the start, in ways that do not merge. */
export interface TransactionConflict {
  path: string;
  why: string;
  /** Beginnings of the three versions (text, or `<N bytes>` for binary; null: absent). */
  base: string | null;
  ours: string | null;
  theirs: string | null;
  /** With onConflict `copy`: where the transaction's version was kept (absent when it was a deletion). */
  copyPath?: string;
}

export interface TransactionResult {
  id: string;
  name: string;
  committed: boolean;
  /** The checkpoint recording the commit (absent when nothing changed, nothing committed, or checkpoints are off). */
  checkpoint?: string;
  changes: TransactionChange[];
  conflicts: TransactionConflict[];
}

export interface TransactionInfo {
  id: string;
  name: string;
  actor?: string;
  /** ms since the epoch. */
  startedAt: number;
  lastUsedAt: number;
  /** Paths written or deleted so far, and the bytes they hold. */
  paths: number;
  bytes: number;
}

export type TransactionEvent =
  | { type: 'transaction_committed'; id: string; name: string; actor?: string; changes: TransactionChange[]; conflicts: TransactionConflict[] }
  | { type: 'transaction_aborted'; id: string; name: string; actor?: string; reason: string; paths: string[] };

export interface TransactionLimits {
  /** Transactions open at once in the scope (default 64); more are refused with ELOCKED. */
  maxOpen?: number;
  /** Bytes one transaction may hold in files it wrote (default 64 MiB); more is refused with EFBIG. */
  maxBytes?: number;
  /** A transaction not used for this long is aborted (default 10 minutes; only for begin(), not run()). */
  idleMs?: number;
}
