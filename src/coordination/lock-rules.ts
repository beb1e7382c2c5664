/**
 * What a lock call decides, as pure functions of the current locks and the
 * clock: whether a lock may be taken (a lock on `/a` covers `/a` and every
 * path under `/a/`, and two locks exclude each other when one covers the
 * other's target), and whether a change of a path may go ahead given the
 * token it presents. The LockTable (locks.ts) holds the state and asks here.
 */
import { ScopeFsError, fsErrors } from '../errors.js';
import { normalizePrefix } from '../paths.js';

/** A lock as a table keeps it. */
export interface LockRecord {
  /** Opaque, unguessable; presented by writes as `lockToken`. */
  token: string;
  /** Fencing number: higher than that of every lock taken before it in this table; never reused. */
  fence: number;
  /** The locked path or prefix, normalised without a trailing slash (`/` for the whole scope). */
  target: string;
  /** Who holds it (an agent id, a token name, an MCP session); free text for messages. */
  owner: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Normalises what a caller locks: `/docs`, `/docs/` and `/docs/a.md` alike (no trailing slash). */
export function lockTarget(input: unknown): string {
  const prefix = normalizePrefix(input);
  return prefix === '/' ? '/' : prefix.slice(0, -1);
}

/** Whether a lock on `target` covers `path` (the target itself, or anything under it). */
export function covers(target: string, path: string): boolean {
  if (target === '/') return true;
  return path === target || (path.startsWith(target) && path.charCodeAt(target.length) === 47 /* '/' */);
}

/** Whether two locks would guard a common path. */
export function overlaps(a: string, b: string): boolean {
  return covers(a, b) || covers(b, a);
}

export function isLive(lock: LockRecord, now: number): boolean {
  return lock.expiresAt > now;
}

/** The live lock that stands in the way of locking `target`, if any. */
export function blockerOf(locks: Iterable<LockRecord>, target: string, now: number): LockRecord | undefined {
  for (const lock of locks) if (isLive(lock, now) && overlaps(lock.target, target)) return lock;
  return undefined;
}

/** EINVAL unless `ttlMs` is a positive whole number of milliseconds (at most a day). */
export function assertTtl(ttlMs: unknown, what = 'ttlMs'): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw fsErrors.invalid(`${what} must be a whole number of milliseconds between 1 and ${MAX_TTL_MS} (a day), got ${String(ttlMs)}`);
  }
  return ttlMs;
}

export const MAX_TTL_MS = 86_400_000;

/**
 * Whether a change of `path` may go ahead: undefined when it may, else the
 * error to refuse it with. A presented token must be a live lock covering
 * the path (ESTALE when it expired, was released or superseded, so a holder
 * that wakes up late cannot clobber the next holder's work); without one,
 * any live lock covering the path refuses (ELOCKED).
 */
export function writeRefusal(
  live: (token: string) => LockRecord | undefined,
  locks: Iterable<LockRecord>,
  path: string,
  lockToken: string | undefined,
  now: number,
): ScopeFsError | undefined {
  if (lockToken !== undefined) {
    const mine = live(lockToken);
    if (!mine || !isLive(mine, now)) return lockErrors.stale(path);
    if (covers(mine.target, path)) return undefined;
  }
  for (const lock of locks) {
    if (isLive(lock, now) && covers(lock.target, path)) return lockErrors.locked(path, lock, now);
  }
  return undefined;
}

export const lockErrors = {
  locked: (path: string, lock: LockRecord, now: number) =>
    new ScopeFsError(
      'ELOCKED',
      `${JSON.stringify(path)} is locked by ${JSON.stringify(lock.owner)} (lock on ${JSON.stringify(lock.target)}, ` +
        `expires in ${Math.max(0, lock.expiresAt - now)} ms at ${new Date(lock.expiresAt).toISOString()}): ` +
        'wait and retry (withLock does), ask the holder to unlock it, or pass its lockToken if you hold it',
      { path },
    ),
  stale: (path: string) =>
    new ScopeFsError(
      'ESTALE',
      `the lockToken presented for ${JSON.stringify(path)} no longer holds a lock there (it expired, was released, ` +
        'or another holder took the lock since): nothing was written; take the lock again, re-read the file, then retry',
      { path },
    ),
  unknownToken: () =>
    new ScopeFsError('ESTALE', 'that lock token holds no lock (it expired, was released, or never existed): take the lock again'),
};
