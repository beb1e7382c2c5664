/**
 * Locks taken on someone's behalf (an agent, an MCP session): each lock is
 * remembered, so all of them can be released at once when that holder goes
 * away, instead of blocking others until their TTLs run out.
 */
import { withLock, type FileLocks, type LockGrant, type LockOptions } from './locks.js';

export interface OwnedLocks extends FileLocks {
  /** Releases every lock still held through this object; answers how many were live. */
  releaseAll(): Promise<number>;
}

/** Whether `fs` has the lock methods (a FileSystemServer, a scope's `fs`). */
export function hasLocks(fs: unknown): fs is FileLocks {
  return typeof (fs as Partial<FileLocks> | undefined)?.lock === 'function' && typeof (fs as FileLocks).unlock === 'function';
}

/** Locks through `locks` whose owner defaults to `owner`, released together by `releaseAll`. */
export function ownedLocks(locks: FileLocks, owner: string): OwnedLocks {
  const held = new Set<string>();
  const owned: OwnedLocks = {
    async lock(pathOrPrefix: string, options: LockOptions): Promise<LockGrant> {
      const grant = await locks.lock(pathOrPrefix, { ...options, owner: options?.owner ?? owner });
      held.add(grant.token);
      return grant;
    },
    renew: (token, options) => locks.renew(token, options),
    async unlock(token: string): Promise<boolean> {
      held.delete(token);
      return locks.unlock(token);
    },
    locks: () => locks.locks(),
    withLock: <T>(path: string, fn: (lock: LockGrant) => Promise<T> | T, options: LockOptions) => withLock(owned, path, fn, options),
    async releaseAll(): Promise<number> {
      const tokens = [...held];
      held.clear();
      const released = await Promise.all(tokens.map((token) => locks.unlock(token).catch(() => false)));
      return released.filter(Boolean).length;
    },
  };
  return owned;
}
