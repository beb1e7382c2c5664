/**
 * Writes the versions a FileSystemServer applies into its HistoryStore, off
 * the write path: `note` only queues (a journaled write stays a memory
 * operation), and one batch at a time is recorded, gathering what arrives
 * within BATCH_WINDOW_MS into one transaction.
 * A failed batch stays queued, in order, and is retried with backoff, so a
 * database that is briefly down loses no version. Recording is idempotent
 * (the store skips a version equal to its path's latest), so a batch that
 * was written before a crash and replayed from the journal costs nothing.
 */
import { errorMessage } from '../errors.js';
import type { HistoryStore, NewVersion, Retention } from '../../persistence/history/types.js';

/** Where a scope's history goes. */
export interface HistoryTarget {
  store: HistoryStore;
  /** The history scope: the sync app with a store, LOCAL_HISTORY_SCOPE for a local one. */
  scope: string;
  /** This instance's id, recorded on every version (when syncing). */
  instance?: string;
  /** Called when recording a batch fails (it is retried). */
  onError?: (message: string) => void;
  /** Retention: after each recorded batch, one bounded prune step (at most PRUNE_ROWS_PER_BATCH rows). */
  retention?: Retention;
}

/**
 * Versions per store call; a large burst is recorded in several
 * transactions. A SQLite history records synchronously on the event loop
 * (about 100-150 µs a version), so a batch is kept to a few milliseconds and
 * the loop gets a turn between batches: timers, I/O and other scopes run
 * (the fairness budget of supervisors/runtime/turn-budget.ts, for history).
 */
const MAX_BATCH = 16;
/** Rows one prune step may remove: pruning keeps pace with recording without ever stalling it. */
export const PRUNE_ROWS_PER_BATCH = 500;
/** How long versions gather before a batch is recorded. */
const BATCH_WINDOW_MS = 25;
const RETRY_MIN_MS = 50;
/** How long closing waits for a history store that does not answer. */
const CLOSE_WAIT_MS = 5_000;
const RETRY_MAX_MS = 5_000;

export class HistoryRecorder {
  private pending: NewVersion[] = [];
  private running: Promise<void> | undefined;
  private retryMs = RETRY_MIN_MS;
  private closed = false;

  constructor(readonly target: HistoryTarget) {}

  get store(): HistoryStore {
    return this.target.store;
  }

  get scope(): string {
    return this.target.scope;
  }

  /** Queues one version; it is recorded after the current turn. */
  note(version: NewVersion): void {
    if (this.closed) return;
    if (this.target.instance !== undefined && version.instance === undefined) version.instance = this.target.instance;
    this.pending.push(version);
    if (!this.running) this.running = this.run();
  }

  /** Resolves once every version noted so far is recorded (retrying while the store fails). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Records what is queued (waiting at most `timeoutMs` for a store that
   * does not answer), then takes no more. Versions still unrecorded then are
   * reported through onError: the files themselves are persisted regardless.
   */
  async close(timeoutMs = CLOSE_WAIT_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const gaveUp = await Promise.race([this.drain().then(() => false), timedOut]);
    clearTimeout(timer);
    this.closed = true;
    if (gaveUp) {
      this.target.onError?.(`history: ${this.pending.length} version(s) not recorded at shutdown (the history store did not answer)`);
      this.pending = [];
    }
  }

  /** One bounded prune step; a failure is reported and left for the next batch (pruning is never urgent). */
  private async pruneStep(): Promise<void> {
    const { retention } = this.target;
    if (!retention) return;
    try {
      await this.target.store.prune(this.target.scope, retention, { maxRows: PRUNE_ROWS_PER_BATCH });
    } catch (err) {
      this.target.onError?.(`pruning history failed: ${errorMessage(err)}`);
    }
  }

  private async run(): Promise<void> {
    // Gather a window's versions into one transaction: a store commit (an fsync) per write would cost more than the write.
    await new Promise<void>((resolve) => setTimeout(resolve, BATCH_WINDOW_MS));
    try {
      while (this.pending.length > 0 && !this.closed) {
        const batch = this.pending.slice(0, MAX_BATCH);
        try {
          await this.target.store.record(this.target.scope, batch);
          this.pending.splice(0, batch.length);
          this.retryMs = RETRY_MIN_MS;
          await this.pruneStep();
          await new Promise<void>((resolve) => setImmediate(resolve));
        } catch (err) {
          this.target.onError?.(`recording history failed (retrying): ${errorMessage(err)}`);
          await new Promise<void>((resolve) => setTimeout(resolve, this.retryMs));
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
