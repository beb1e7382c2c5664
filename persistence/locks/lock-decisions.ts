/**
 * What a store lock call decides, as pure functions of the app's lock rows,
 * its fence counter and the store's clock, so the memory and SQLite stores
 * hold locks exactly as the SQL functions of
 * persistence/sql/migrations/007_locks.sql do. The store reads, asks here,
 * and writes back what is decided, all in one transaction.
 */
import { blockerOf, isLive, type LockRecord } from '../../src/coordination/lock-rules.js';
import type { StoreLockAnswer, StoreLockRequest } from './types.js';

export interface LockAcquireDecision {
  answer: StoreLockAnswer;
  /** The row to insert and the app's new fence counter, when granted. */
  next?: { lock: LockRecord; fence: number };
}

export function decideAcquire(
  rows: Iterable<LockRecord>,
  fence: number,
  request: StoreLockRequest & { token: string; now: number },
): LockAcquireDecision {
  const { target, owner, ttlMs, token, now } = request;
  const holder = blockerOf(rows, target, now);
  if (holder) return { answer: { acquired: false, holder } };
  const lock: LockRecord = { token, fence: fence + 1, target, owner, expiresAt: now + ttlMs };
  return { answer: { acquired: true, lock }, next: { lock, fence: lock.fence } };
}

/** The renewed row, or null (nothing to write) when the lock is gone or expired: a dead lock never revives. */
export function decideRenew(current: LockRecord | undefined, ttlMs: number, now: number): LockRecord | null {
  if (!current || !isLive(current, now)) return null;
  return { ...current, expiresAt: now + ttlMs };
}

/** The row is deleted either way; the answer says whether it was still live. */
export function decideRelease(current: LockRecord | undefined, now: number): boolean {
  return current !== undefined && isLive(current, now);
}

export function liveOnly(rows: Iterable<LockRecord>, now: number): LockRecord[] {
  return [...rows].filter((row) => isLive(row, now)).sort(byTargetThenFence);
}

export function byTargetThenFence(a: LockRecord, b: LockRecord): number {
  return a.target < b.target ? -1 : a.target > b.target ? 1 : a.fence - b.fence;
}
