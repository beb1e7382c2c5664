/**
 * Store locks in memory (the memory store's, shared by scopes that share
 * `memory:NAME`). Lock changes are told to watchers (a microtask after the
 * change), so mirrors hear them without polling.
 */
import type { LockRecord } from '../../src/coordination/lock-rules.js';
import { decideAcquire, decideRelease, decideRenew, liveOnly } from './lock-decisions.js';
import { checkApp, checkRequest, checkToken, checkTtl, newLockToken } from './lock-input.js';
import type { StoreLockAnswer, StoreLockRequest, StoreLocks } from './types.js';

interface AppLocks { rows: Map<string, LockRecord>; fence: number }

export class MemoryLocks implements StoreLocks {
  private readonly apps = new Map<string, AppLocks>();
  private readonly watchers = new Map<string, Set<(change: { error?: string; reconnected?: boolean }) => void>>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(app: string, request: StoreLockRequest): Promise<StoreLockAnswer> {
    const locks = this.of(checkApp(app));
    const now = this.now();
    const decision = decideAcquire(locks.rows.values(), locks.fence, { ...checkRequest(request), token: newLockToken(), now });
    if (decision.next) {
      this.sweep(locks, now);
      locks.rows.set(decision.next.lock.token, decision.next.lock);
      locks.fence = decision.next.fence;
      this.changed(app);
    }
    return decision.answer;
  }

  async renew(app: string, token: string, ttlMs: number): Promise<LockRecord | null> {
    const locks = this.of(checkApp(app));
    const next = decideRenew(locks.rows.get(checkToken(token)), checkTtl(ttlMs), this.now());
    if (next) locks.rows.set(token, next);
    return next;
  }

  async release(app: string, token: string): Promise<boolean> {
    const locks = this.of(checkApp(app));
    const wasLive = decideRelease(locks.rows.get(checkToken(token)), this.now());
    if (locks.rows.delete(token)) this.changed(app);
    return wasLive;
  }

  async live(app: string): Promise<LockRecord[]> {
    return liveOnly(this.of(checkApp(app)).rows.values(), this.now());
  }

  async check(app: string, token: string): Promise<LockRecord | null> {
    return liveOnly([this.of(checkApp(app)).rows.get(checkToken(token))].filter((r) => r !== undefined), this.now())[0] ?? null;
  }

  watchChanges(app: string, listener: (change: { error?: string; reconnected?: boolean }) => void): () => void {
    let listeners = this.watchers.get(app);
    if (!listeners) this.watchers.set(app, (listeners = new Set()));
    const entry = (change: { error?: string; reconnected?: boolean }) => listener(change);
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.watchers.get(app) === listeners) this.watchers.delete(app);
    };
  }

  async close(): Promise<void> {}

  private changed(app: string): void {
    const listeners = this.watchers.get(app);
    if (!listeners) return;
    const snapshot = [...listeners];
    queueMicrotask(() => {
      for (const listener of snapshot) if (listeners.has(listener)) listener({});
    });
  }

  private of(app: string): AppLocks {
    let locks = this.apps.get(app);
    if (!locks) this.apps.set(app, (locks = { rows: new Map(), fence: 0 }));
    return locks;
  }

  private sweep(locks: AppLocks, now: number): void {
    const live = new Set(liveOnly(locks.rows.values(), now).map((r) => r.token));
    for (const token of locks.rows.keys()) if (!live.has(token)) locks.rows.delete(token);
  }
}
