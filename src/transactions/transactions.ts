/**
 * A scope's transactions (docs/transactions.md): begin one, work in its
 * private FileSystem, then commit it (each changed path merged three ways
 * with the live version, the whole set applied as one batch) or abort it
 * (nothing becomes visible). `run(fn)` does all three around a function: a
 * return commits, a throw or the signal aborts.
 *
 * Limits: open transactions per scope, bytes per transaction, and an idle
 * time after which a transaction begun with `begin()` (an HTTP or MCP
 * session) is aborted.
 */
import { randomBytes } from 'node:crypto';
import { ScopeFsError, errorMessage, isScopeFsError } from '../errors.js';
import type { FileSystem, SnapshotVersion } from '../types.js';
import { planCommit, type CommitInput } from './commit-plan.js';
import { TransactionFs } from './transaction-fs.js';
import type { TransactionEvent, TransactionInfo, TransactionLimits, TransactionOptions, TransactionResult } from './types.js';
import { TxWorkspace } from './workspace.js';

const DEFAULTS: Required<TransactionLimits> = { maxOpen: 64, maxBytes: 64 * 1024 * 1024, idleMs: 10 * 60_000 };
/** A live change between planning a commit and applying it makes the batch ESTALE: plan again, this many times. */
const COMMIT_ATTEMPTS = 5;

export type TransactionListener = (event: TransactionEvent) => void;

export class Transactions {
  private readonly limits: Required<TransactionLimits>;
  private readonly open = new Map<string, Transaction>();
  private readonly listeners = new Set<TransactionListener>();

  /**
   * `snapshot`: the scope's files with the contents in memory, in one step
   * (StableFileSystem.snapshotVersions); without it a transaction starts
   * from the metadata alone and reads start versions when first needed.
   */
  constructor(
    private readonly fs: FileSystem,
    limits: TransactionLimits = {},
    private readonly snapshot?: () => Promise<SnapshotVersion[]>,
  ) {
    this.limits = { ...DEFAULTS, ...definedOnly(limits) };
  }

  /** Starts a transaction; abort or commit it. With `idle`, an unused one is aborted after the idle time. */
  async begin(options: TransactionOptions & { idle?: boolean } = {}): Promise<Transaction> {
    if (this.open.size >= this.limits.maxOpen) {
      throw new ScopeFsError('ELOCKED', `the scope already has ${this.open.size} open transactions, its limit; commit or abort one, then retry`);
    }
    if (options.signal?.aborted) throw aborted('its signal fired before it began');
    const id = randomBytes(6).toString('hex');
    const workspace = await TxWorkspace.begin(this.fs, this.limits.maxBytes, this.snapshot);
    const transaction = new Transaction(id, options, workspace, this.fs, {
      idleMs: options.idle ? this.limits.idleMs : undefined,
      finished: (event) => {
        this.open.delete(id);
        for (const listener of this.listeners) listener(event);
      },
    });
    this.open.set(id, transaction);
    return transaction;
  }

  /**
   * Runs `fn` in a transaction: a return commits (the result says whether, and what conflicted), a throw
   * aborts and rethrows, the signal aborts and rejects with ESTOPPED.
   */
  async run<T>(fn: (fs: FileSystem) => T | Promise<T>, options: TransactionOptions = {}): Promise<TransactionResult & { value: T }> {
    const transaction = await this.begin(options);
    let value: T;
    try {
      value = await fn(transaction.fs);
    } catch (err) {
      transaction.abort(`the run threw: ${errorMessage(err)}`);
      throw err;
    }
    return { ...(await transaction.commit()), value };
  }

  get(id: string): Transaction | undefined {
    return this.open.get(id);
  }

  list(): TransactionInfo[] {
    return [...this.open.values()].map((transaction) => transaction.info());
  }

  subscribe(listener: TransactionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Aborts every open transaction (the scope is stopping). */
  abortAll(reason: string): void {
    for (const transaction of [...this.open.values()]) transaction.abort(reason);
  }
}

type State = 'open' | 'committing' | 'done';

export class Transaction {
  readonly name: string;
  readonly fs: FileSystem;
  readonly startedAt = Date.now();
  private lastUsedAt = this.startedAt;
  private state: State = 'open';
  private abortReason: string | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly onSignal = () => this.abort('its signal fired');

  constructor(
    readonly id: string,
    private readonly options: TransactionOptions,
    private readonly workspace: TxWorkspace,
    private readonly live: FileSystem,
    private readonly hooks: { idleMs: number | undefined; finished: (event: TransactionEvent) => void },
  ) {
    this.name = options.name ?? `tx-${id}`;
    this.fs = new TransactionFs(workspace, () => this.use());
    options.signal?.addEventListener('abort', this.onSignal, { once: true });
    this.armIdle();
  }

  info(): TransactionInfo {
    const actor = this.options.actor;
    return { id: this.id, name: this.name, ...(actor ? { actor } : {}), startedAt: this.startedAt, lastUsedAt: this.lastUsedAt, paths: this.workspace.changedPaths().length, bytes: this.workspace.bytes };
  }

  /** Discards everything the transaction wrote; nothing of it was ever visible. Idempotent. */
  abort(reason = 'aborted'): void {
    if (this.state === 'done') return;
    this.abortReason = reason;
    this.finish({ type: 'transaction_aborted', id: this.id, name: this.name, ...this.actor(), reason, paths: this.workspace.changedPaths() });
  }

  /**
   * Merges every changed path with the live version (three ways, against the version at the start) and
   * applies the whole set as one batch. With onConflict `fail` a conflict commits nothing; with `copy` what
   * merged is committed and each conflicting version of the transaction is kept as a conflict copy.
   */
  async commit(): Promise<TransactionResult> {
    this.use();
    this.state = 'committing';
    try {
      const result = await this.applyCommit();
      if (result.committed) {
        this.finish({ type: 'transaction_committed', id: this.id, name: this.name, ...this.actor(), changes: result.changes, conflicts: result.conflicts });
      } else {
        this.abortReason = 'conflicts';
        this.finish({ type: 'transaction_aborted', id: this.id, name: this.name, ...this.actor(), reason: `${result.conflicts.length} conflicting path(s)`, paths: this.workspace.changedPaths() });
      }
      return result;
    } catch (err) {
      this.abort(`the commit failed: ${errorMessage(err)}`);
      throw err;
    }
  }

  private async applyCommit(): Promise<TransactionResult> {
    const onConflict = this.options.onConflict ?? 'fail';
    if (onConflict !== 'fail' && onConflict !== 'copy') throw new ScopeFsError('EINVAL', `onConflict must be 'fail' or 'copy', got ${JSON.stringify(onConflict)}`);
    for (let attempt = 1; ; attempt++) {
      const plan = planCommit(await this.commitInputs(), { onConflict, transactionId: this.id, at: new Date() });
      const result: TransactionResult = { id: this.id, name: this.name, committed: plan.committed, changes: [], conflicts: plan.conflicts };
      if (!plan.committed || plan.items.length === 0) return result;
      let applied;
      try {
        applied = await this.live.applyBatch(plan.items, this.actor());
      } catch (err) {
        // A live change landed between reading the live versions and the batch: plan again from it.
        if (isScopeFsError(err, 'ESTALE') && attempt < COMMIT_ATTEMPTS) continue;
        throw err;
      }
      const revisions = new Map(applied.written.map((meta) => [meta.path, meta.revision]));
      result.changes = plan.changes.map((change) => ({ ...change, ...(revisions.has(change.path) ? { revision: revisions.get(change.path)! } : {}) }));
      const checkpoint = this.options.checkpoint === false ? undefined : await this.recordCheckpoint();
      if (checkpoint) result.checkpoint = checkpoint;
      return result;
    }
  }

  private async commitInputs(): Promise<CommitInput[]> {
    const inputs: CommitInput[] = [];
    for (const path of this.workspace.changedPaths()) {
      const base = await this.workspace.start(path);
      const ours = this.workspace.ours(path);
      inputs.push({ path, base, ours, theirs: await liveVersion(this.live, path) });
    }
    return inputs;
  }

  /**
   * The commit as a checkpoint named after the run. The changes are applied by now, so a checkpoint that
   * cannot be recorded (a scope without history, a failing store) leaves the result without one.
   */
  private async recordCheckpoint(): Promise<string | undefined> {
    const name = this.options.name === undefined ? this.name : `${this.name}-${this.id}`;
    return this.live.checkpoint(name, { message: `transaction ${this.name}`, flush: false }).then(
      (checkpoint) => checkpoint.name,
      () => undefined,
    );
  }

  /** Every operation of the transaction's fs: refused once it is over, and it keeps the idle timer at bay. */
  private use(): void {
    if (this.state === 'open') {
      this.lastUsedAt = Date.now();
      this.armIdle();
      return;
    }
    if (this.state === 'committing') throw new ScopeFsError('EINVAL', `transaction ${this.name} is committing; its files can no longer change`);
    throw aborted(this.abortReason ?? 'it is over', this.name);
  }

  private armIdle(): void {
    if (this.hooks.idleMs === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.abort(`unused for ${this.hooks.idleMs} ms`), this.hooks.idleMs);
    this.idleTimer.unref();
  }

  private finish(event: TransactionEvent): void {
    this.state = 'done';
    this.workspace.close();
    clearTimeout(this.idleTimer);
    this.options.signal?.removeEventListener('abort', this.onSignal);
    this.hooks.finished(event);
  }

  private actor(): { actor?: string } {
    return this.options.actor === undefined ? {} : { actor: this.options.actor };
  }
}

async function liveVersion(fs: FileSystem, path: string): Promise<CommitInput['theirs']> {
  try {
    const entry = await fs.readEntry(path, { encoding: 'bytes' });
    return { content: entry.content, hash: entry.meta.checksum!, revision: entry.meta.revision };
  } catch (err) {
    if (isScopeFsError(err, 'ENOENT')) return null;
    throw err;
  }
}

function aborted(reason: string, name?: string): ScopeFsError {
  return new ScopeFsError('ESTOPPED', `${name === undefined ? 'the transaction' : `transaction ${name}`} was aborted (${reason}); nothing of it was applied, run it again`);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
