/**
 * Writes the versions a FileSystemServer applies into its HistoryStore, off
 * the write path: `note` only queues (a journaled write stays a memory
 * operation), and one batch at a time is recorded, gathering what arrives
 * within BATCH_WINDOW_MS into one transaction.
 * A failed batch stays queued, in order, and is retried with backoff, so a
 * database that is briefly down loses no version.
 *
 * Pacing: a round records what was queued when it began, then the next
 * round gathers for another window, so a writer that outpaces the history
 * gives it a bounded share of the event loop instead of all of it. Reads of
 * history (drain) skip the wait. While more than COALESCE_ABOVE versions
 * wait, a path's newer version by the same writer replaces its queued one
 * (the queue stays bounded by the paths being written, and a burst of
 * rewrites of one file keeps its newest); below that, every version is kept. Recording is idempotent
 * (the store skips a version equal to its path's latest), so a batch that
 * was written before a crash and replayed from the journal costs nothing.
 */
import { errorMessage } from '../errors.js';
import type { HistoryStore, NewVersion, Retention } from '../../persistence/history/types.js';

/** A version as noted: a large write's hash may still be on its way (entries.ts `hashing`); it is awaited before recording. */
export type NotedVersion = Omit<NewVersion, 'hash'> & { hash: NewVersion['hash'] | Promise<string> };

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
/** Queued versions beyond which a path's newer version (same writer) replaces its older queued one. */
export const COALESCE_ABOVE = 64;
/** Rows one prune step may remove: pruning keeps pace with recording without ever stalling it. */
export const PRUNE_ROWS_PER_BATCH = 500;
/** How long versions gather before a batch is recorded. */
const BATCH_WINDOW_MS = 25;
/**
 * After a round that kept the loop busy for B ms, the next waits at least
 * B * this: while writes outpace the history, recording takes at most about
 * 1 / (1 + this) of the event loop (a fifth), and coalescing bounds the queue.
 */
const IDLE_PER_BUSY = 4;
/**
 * The longest wait between rounds: well under the default persist debounce
 * (500 ms), so a version is normally recorded while the journal still holds
 * it (a crash before then is replayed from the journal into history).
 */
const MAX_GATHER_MS = 250;
const RETRY_MIN_MS = 50;
/** How long closing waits for a history store that does not answer. */
const CLOSE_WAIT_MS = 5_000;
const RETRY_MAX_MS = 5_000;

export class HistoryRecorder {
  private pending: NotedVersion[] = [];
  /** The last queued (not yet taken) version of each path, for coalescing. */
  private readonly queued = new Map<string, NotedVersion>();
  private running: Promise<void> | undefined;
  /** Ends the current gathering wait early (a reader is waiting). */
  private hurry: (() => void) | undefined;
  private readers = 0;
  /** Milliseconds the last round spent in the store (recording and pruning). */
  private busyMs = 0;
  private retryMs = RETRY_MIN_MS;
  private closed = false;

  /** Whether the last prune step left more to remove (or none has run since start): pruning goes on without writes. */
  private pruneMore: boolean;

  constructor(readonly target: HistoryTarget) {
    // Retention applies from the start: a restarted or idle scope prunes what its limits exclude, a step per round.
    this.pruneMore = target.retention !== undefined;
    if (this.pruneMore) this.running = this.run();
  }

  get store(): HistoryStore {
    return this.target.store;
  }

  get scope(): string {
    return this.target.scope;
  }

  /** Queues one version; it is recorded after the current turn. */
  note(version: NotedVersion): void {
    if (this.closed) return;
    if (this.target.instance !== undefined && version.instance === undefined) version.instance = this.target.instance;
    const older = this.pending.length > COALESCE_ABOVE ? this.queued.get(version.path) : undefined;
    if (older && sameWriter(older, version)) {
      Object.assign(older, { content: version.content, hash: version.hash, at: version.at });
    } else {
      this.pending.push(version);
      this.queued.set(version.path, version);
    }
    if (!this.running) this.running = this.run();
  }

  /** Resolves once every version noted so far is recorded (retrying while the store fails). */
  async drain(): Promise<void> {
    this.readers++;
    try {
      while (this.running) {
        this.hurry?.();
        await this.running;
      }
    } finally {
      this.readers--;
    }
  }

  /**
   * Records what is queued (waiting at most `timeoutMs` for a store that
   * does not answer), then takes no more. Versions still unrecorded then are
   * reported through onError: the files themselves are persisted regardless.
   */
  async close(timeoutMs = CLOSE_WAIT_MS): Promise<void> {
    this.pruneMore = false; // what is left to prune waits for the next start; versions do not
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const gaveUp = await Promise.race([this.drain().then(() => false), timedOut]);
    clearTimeout(timer);
    this.closed = true;
    if (gaveUp) {
      this.target.onError?.(`history: ${this.pending.length} version(s) not recorded at shutdown (the history store did not answer)`);
      this.pending = [];
      this.queued.clear();
    }
  }

  /** One bounded prune step; a failure is reported and left for the next batch (pruning is never urgent). */
  private async pruneStep(): Promise<void> {
    const { retention } = this.target;
    this.pruneMore = false;
    if (!retention) return;
    try {
      this.pruneMore = (await this.target.store.prune(this.target.scope, retention, { maxRows: PRUNE_ROWS_PER_BATCH })).more;
    } catch (err) {
      this.target.onError?.(`pruning history failed: ${errorMessage(err)}`);
    }
  }

  private async run(): Promise<void> {
    try {
      while ((this.pending.length > 0 || this.pruneMore) && !this.closed) {
        await this.gather();
        if (this.pending.length > 0) await this.recordRound(this.pending.length);
        else await this.timed(() => this.pruneStep());
      }
    } finally {
      this.running = undefined;
    }
  }

  /** Waits a window (a store commit, an fsync, per write would cost more than the write), unless a reader waits. */
  private async gather(): Promise<void> {
    const waitMs = Math.min(MAX_GATHER_MS, Math.max(BATCH_WINDOW_MS, this.busyMs * IDLE_PER_BUSY));
    this.busyMs = 0;
    if (this.readers > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.hurry = () => (clearTimeout(timer), resolve());
    });
    this.hurry = undefined;
  }

  /** Records `count` queued versions (more when a reader waits), MAX_BATCH per store call, a loop turn between calls. */
  private async recordRound(count: number): Promise<void> {
    let left = count;
    while (this.pending.length > 0 && !this.closed && (left > 0 || this.readers > 0)) {
      const batch = this.take();
      try {
        await this.timed(async () => {
          await this.target.store.record(this.target.scope, await withHashes(batch));
          left -= batch.length;
          this.retryMs = RETRY_MIN_MS;
          await this.pruneStep();
        });
        await new Promise<void>((resolve) => setImmediate(resolve));
      } catch (err) {
        this.pending.unshift(...batch);
        this.target.onError?.(`recording history failed (retrying): ${errorMessage(err)}`);
        await new Promise<void>((resolve) => setTimeout(resolve, this.retryMs));
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Runs store work, adding its time to this round's busy time (which paces the next round). */
  private async timed(work: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await work();
    } finally {
      this.busyMs += performance.now() - started;
    }
  }

  /** The next batch, out of the queue: a version being recorded is never coalesced into. */
  private take(): NotedVersion[] {
    const batch = this.pending.splice(0, MAX_BATCH);
    for (const version of batch) if (this.queued.get(version.path) === version) this.queued.delete(version.path);
    return batch;
  }
}

/** The batch with every hash known (a large write's arrives tens of milliseconds after its acknowledgement). */
async function withHashes(batch: NotedVersion[]): Promise<NewVersion[]> {
  for (const version of batch) if (version.hash instanceof Promise) version.hash = await version.hash;
  return batch as NewVersion[];
}

/** Whether two versions of a path come from the same writer (so the older may give way to the newer). */
function sameWriter(a: NotedVersion, b: NotedVersion): boolean {
  return a.origin === b.origin && a.actor === b.actor && a.instance === b.instance;
}
