/** Store locks in memory (the memory store's, shared by scopes that share `memory:NAME`). */
import type { LockRecord } from '../../src/coordination/lock-rules.js';
import { decideAcquire, decideRelease, decideRenew, liveOnly } from './lock-decisions.js';
import { checkApp, checkRequest, checkToken, checkTtl, newLockToken } from './lock-input.js';
import type { StoreLockAnswer, StoreLockRequest, StoreLocks } from './types.js';

interface AppLocks { rows: Map<string, LockRecord>; fence: number }

export class MemoryLocks implements StoreLocks {
  private readonly apps = new Map<string, AppLocks>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(app: string, request: StoreLockRequest): Promise<StoreLockAnswer> {
    const locks = this.of(checkApp(app));
    const now = this.now();
    const decision = decideAcquire(locks.rows.values(), locks.fence, { ...checkRequest(request), token: newLockToken(), now });
    if (decision.next) {
      this.sweep(locks, now);
      locks.rows.set(decision.next.lock.token, decision.next.lock);
      locks.fence = decision.next.fence;
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
    locks.rows.delete(token);
    return wasLive;
  }

  async live(app: string): Promise<LockRecord[]> {
    return liveOnly(this.of(checkApp(app)).rows.values(), this.now());
  }

  async check(app: string, token: string): Promise<LockRecord | null> {
    return liveOnly([this.of(checkApp(app)).rows.get(checkToken(token))].filter((r) => r !== undefined), this.now())[0] ?? null;
  }

  async close(): Promise<void> {}

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
