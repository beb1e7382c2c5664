/**
 * Scope-wide locks for a syncing scope: lock, renew and unlock go to the
 * store (persistence/locks/), so two instances of an app exclude each other;
 * the scope's LockTable mirrors the store's live locks, refreshed on a timer
 * bounded by the shortest TTL, so planning enforces them as it enforces local
 * ones. A change presenting a token first asks the store whether it is still
 * live (one round trip): a dead one is dropped from the table, and planning
 * then refuses the change with ESTALE.
 *
 * A store that reports lock changes (StoreLocks.watchChanges: SQLite through
 * the process's one change poller of the file, PostgreSQL through NOTIFY)
 * is not polled while no lock is live: a change triggers a refresh at once
 * (refreshes in flight coalesce), so the mirror lags the store by the hint's
 * latency, and idle scopes send no lock queries of their own. Lost hints are
 * caught by the store's one shared safety sweep per process
 * (persistence/locks/lock-signatures.ts), which wakes only the mirrors of
 * apps whose locks moved. After the channel fails or comes back the mirror
 * refreshes (it may have missed hints); while it fails, and for stores
 * without one (Supabase), the mirror is refreshed on the timer, at most 1 s apart.
 */
import type { StoreLocks } from '../../persistence/locks/types.js';
import { backoffMs, grantOf, lockRequest, waitOf, type FileLocks, type LockGrant, type LockInfo, type LockOptions, type LockTable } from './locks.js';
import { assertTtl, lockErrors } from './lock-rules.js';

/** The longest the mirror goes without a refresh while any lock is live. */
const MAX_REFRESH_MS = 1_000;
const MIN_REFRESH_MS = 20;

export class StoreBackedLocks implements Omit<FileLocks, 'withLock'> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDue = Infinity;
  private closed = false;
  private refreshing: Promise<void> | undefined;
  /** A change was heard while a refresh was in flight: one more after it. */
  private refreshAgain = false;
  /** Set while the store's change channel works: no timer is needed without live locks. */
  private hearing = false;
  private readonly unwatch: (() => void) | undefined;

  constructor(
    private readonly table: LockTable,
    private readonly store: StoreLocks,
    private readonly app: string,
  ) {
    try {
      this.unwatch = store.watchChanges?.(app, (change) => this.onStoreChange(change));
      this.hearing = this.unwatch !== undefined;
    } catch {
      this.unwatch = undefined; // the file cannot be watched now: poll
    }
  }

  /** Takes the lock in the store, retrying with backoff up to `wait`; ELOCKED naming the holder. */
  async lock(pathOrPrefix: string, options: LockOptions): Promise<LockGrant> {
    const { target, ttlMs, owner } = lockRequest(pathOrPrefix, options);
    const deadline = Date.now() + waitOf(options.wait);
    for (let attempt = 0; ; attempt += 1) {
      const answer = await this.store.acquire(this.app, { target, owner, ttlMs });
      if (answer.acquired) {
        this.table.mirrorOne(answer.lock);
        this.scheduleRefresh();
        return grantOf(answer.lock);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw lockErrors.locked(target, answer.holder, Date.now());
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, backoffMs(attempt))));
    }
  }

  async renew(token: string, options: { ttlMs: number }): Promise<LockGrant> {
    const ttlMs = assertTtl(options?.ttlMs);
    const renewed = await this.store.renew(this.app, token, ttlMs);
    if (!renewed) {
      this.table.forget(token);
      throw lockErrors.unknownToken();
    }
    this.table.mirrorOne(renewed);
    return grantOf(renewed);
  }

  async unlock(token: string): Promise<boolean> {
    const wasLive = await this.store.release(this.app, token);
    this.table.forget(token);
    return wasLive;
  }

  async locks(): Promise<LockInfo[]> {
    await this.refresh();
    return this.table.list();
  }

  /** Before a change presenting `token` is planned: the store's word on whether it still holds a lock. */
  async checkToken(token: string): Promise<void> {
    const live = await this.store.check(this.app, token);
    if (live) this.table.mirrorOne(live);
    else this.table.forget(token);
  }

  /** Replaces the mirror with the store's live locks. */
  async refresh(): Promise<void> {
    const live = await this.store.live(this.app);
    this.table.mirror(live);
    this.scheduleRefresh(live);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    this.unwatch?.();
    await this.store.close();
  }

  /**
   * Next refresh within half the shortest remaining TTL, and at most
   * MAX_REFRESH_MS away even with no lock live: another instance may take one.
   */
  private scheduleRefresh(live: ReadonlyArray<{ expiresAt: number }> = this.table.list()): void {
    if (this.closed) return;
    this.clearTimer();
    // Nothing live and the store reports its changes (and sweeps for lost ones): no timer; the next change refreshes.
    if (live.length === 0 && this.hearing) return;
    const now = Date.now();
    const shortest = Math.min(MAX_REFRESH_MS * 2, ...live.map((lock) => lock.expiresAt - now));
    this.refreshIn(Math.max(MIN_REFRESH_MS, Math.min(MAX_REFRESH_MS, shortest / 2)));
  }

  /** A commit to the store (or its change channel failing or back). */
  private onStoreChange(change: { error?: string; reconnected?: boolean }): void {
    if (this.closed) return;
    if (change.error) {
      this.hearing = false; // silence proves nothing now: poll (the first refresh at once: a hint may be lost)
      this.refreshNow();
      return;
    }
    if (change.reconnected) this.hearing = true;
    this.refreshNow();
  }

  /** Refreshes at once; changes heard meanwhile make one more refresh after it, however many. */
  private refreshNow(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.clearTimer();
    this.refreshing = this.refresh()
      .catch(() => this.pollAfterFailure())
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain && !this.closed) {
          this.refreshAgain = false;
          this.refreshNow();
        }
      });
  }

  /** Refreshes in `delayMs`, unless a refresh is already due sooner. */
  private refreshIn(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.timer !== undefined && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      // A failed refresh (store unreachable) keeps the mirror; the timer tries again (refreshNow).
      this.refreshNow();
    }, delayMs);
    this.timer.unref?.();
  }

  /** A refresh failed: try again on the timer, whether or not commits are heard. */
  private pollAfterFailure(): void {
    if (this.closed) return;
    this.refreshIn(MAX_REFRESH_MS);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }
}
