/**
 * A scope's lock table: locks with TTLs and fencing numbers on paths and
 * prefixes (lock-rules.ts decides). The FileSystemServer owns one and checks
 * every planned change against it (FsView.assertUnlocked), so a refused
 * write leaves no trace. Without a store the table is the locks; when the
 * scope syncs it mirrors the store's (store-backed-locks.ts): see
 * docs/coordination.md#locks for what is and is not guaranteed.
 */
import { randomBytes } from 'node:crypto';
import { fsErrors } from '../errors.js';
import {
  assertTtl,
  blockerOf,
  isLive,
  lockErrors,
  lockTarget,
  writeRefusal,
  type LockRecord,
} from './lock-rules.js';

export interface LockOptions {
  /** How long the lock lasts unless renewed. */
  ttlMs: number;
  /** Who holds it, named in other callers' ELOCKED messages (default `anonymous`). */
  owner?: string;
  /** How long to keep trying while someone else holds an overlapping lock (default 0: ELOCKED at once). */
  wait?: number;
}

/** What lock and renew answer. */
export interface LockGrant {
  /** Present it as `lockToken` on writes, moves and deletes of locked paths; and to renew or unlock. */
  token: string;
  /** Fencing number: every lock taken later has a higher one, so a resource can refuse an older holder. */
  fence: number;
  /** The locked path or prefix (normalised, no trailing slash). */
  path: string;
  owner: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A lock as `locks()` lists it (no token: holding a token is what proves holding the lock). */
export interface LockInfo {
  path: string;
  owner: string;
  fence: number;
  expiresAt: number;
}

/** The lock methods of a filesystem (FileSystemServer, a scope's `fs`). */
export interface FileLocks {
  /** Locks a path or prefix; ELOCKED (naming the holder and its expiry) when an overlapping lock is held past `wait`. */
  lock(pathOrPrefix: string, options: LockOptions): Promise<LockGrant>;
  /** Extends a live lock by `ttlMs` from now; ESTALE when it expired or was released. */
  renew(token: string, options: { ttlMs: number }): Promise<LockGrant>;
  /** Releases a lock; false when it had already expired or been released. */
  unlock(token: string): Promise<boolean>;
  /** The live locks, by path. */
  locks(): Promise<LockInfo[]>;
  /** Runs `fn` holding a lock on `path` (taken with backoff up to `wait`), and releases it after, even when `fn` throws. */
  withLock<T>(path: string, fn: (lock: LockGrant) => Promise<T> | T, options: LockOptions): Promise<T>;
}

const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 500;

export class LockTable {
  private readonly byToken = new Map<string, LockRecord>();
  private fence = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** One attempt: the grant, or ELOCKED naming the overlapping holder. */
  tryLock(pathOrPrefix: string, options: LockOptions): LockGrant {
    const { target, ttlMs, owner } = lockRequest(pathOrPrefix, options);
    const now = this.now();
    this.sweep(now);
    const blocker = blockerOf(this.byToken.values(), target, now);
    if (blocker) throw lockErrors.locked(target, blocker, now);
    this.fence += 1;
    const record: LockRecord = { token: `lk_${randomBytes(18).toString('base64url')}`, fence: this.fence, target, owner, expiresAt: now + ttlMs };
    this.byToken.set(record.token, record);
    return grantOf(record);
  }

  /** Tries until granted or `options.wait` ms have passed, backing off exponentially with full jitter. */
  async lock(pathOrPrefix: string, options: LockOptions): Promise<LockGrant> {
    const wait = waitOf(options.wait);
    const deadline = this.now() + wait;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return this.tryLock(pathOrPrefix, options);
      } catch (err) {
        const left = deadline - this.now();
        if (left <= 0 || !isLockedError(err)) throw err;
        await delay(Math.min(left, backoffMs(attempt)));
      }
    }
  }

  renew(token: string, options: { ttlMs: number }): LockGrant {
    const ttlMs = assertTtl(options?.ttlMs);
    const record = this.byToken.get(token);
    const now = this.now();
    if (!record || !isLive(record, now)) throw lockErrors.unknownToken();
    record.expiresAt = now + ttlMs;
    return grantOf(record);
  }

  unlock(token: string): boolean {
    const record = this.byToken.get(token);
    this.byToken.delete(token);
    return record !== undefined && isLive(record, this.now());
  }

  /** Releases every lock of `owner` (an agent that stopped, an MCP session that ended); answers how many. */
  releaseOwner(owner: string): number {
    let released = 0;
    for (const [token, record] of this.byToken) {
      if (record.owner !== owner) continue;
      this.byToken.delete(token);
      released += 1;
    }
    return released;
  }

  list(): LockInfo[] {
    const now = this.now();
    this.sweep(now);
    return [...this.byToken.values()]
      .map(({ target, owner, fence, expiresAt }) => ({ path: target, owner, fence, expiresAt }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.fence - b.fence));
  }

  /** ELOCKED / ESTALE unless a change of `path` presenting `lockToken` may go ahead. Costs nothing without locks. */
  assertWritable(path: string, lockToken: string | undefined): void {
    if (this.byToken.size === 0 && lockToken === undefined) return;
    const refusal = writeRefusal((token) => this.byToken.get(token), this.byToken.values(), path, lockToken, this.now());
    if (refusal) throw refusal;
  }

  /**
   * Mirrors a store's live locks (store-backed-locks.ts): the table then holds
   * exactly these, so planning checks them as it checks local ones.
   */
  mirror(records: Iterable<LockRecord>): void {
    this.byToken.clear();
    for (const record of records) this.mirrorOne(record);
  }

  /** Adds or updates one lock the store granted or renewed. */
  mirrorOne(record: LockRecord): void {
    this.byToken.set(record.token, { ...record });
    this.fence = Math.max(this.fence, record.fence);
  }

  /** Drops one lock the store says is dead: its token then answers ESTALE. */
  forget(token: string): void {
    this.byToken.delete(token);
  }

  /** Expired locks go; their tokens then answer ESTALE like released ones. */
  private sweep(now: number): void {
    for (const [token, record] of this.byToken) if (!isLive(record, now)) this.byToken.delete(token);
  }
}

/** Runs `fn` under a lock of `table` (or anything with the same lock/unlock). */
export async function withLock<T>(
  locks: Pick<FileLocks, 'lock' | 'unlock'>,
  path: string,
  fn: (lock: LockGrant) => Promise<T> | T,
  options: LockOptions,
): Promise<T> {
  if (typeof fn !== 'function') throw fsErrors.invalid('withLock needs a function to run while holding the lock');
  const grant = await locks.lock(path, options);
  try {
    return await fn(grant);
  } finally {
    await locks.unlock(grant.token);
  }
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, first·2^attempt)], at least 1 ms. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16));
  return Math.max(1, Math.round(random() * ceiling));
}

export function lockRequest(pathOrPrefix: string, options: LockOptions): { target: string; ttlMs: number; owner: string } {
  if (!options || typeof options !== 'object') throw fsErrors.invalid('lock needs options: { ttlMs, owner?, wait? }');
  const ttlMs = assertTtl(options.ttlMs);
  const owner = options.owner ?? 'anonymous';
  if (typeof owner !== 'string' || owner.trim() === '' || owner.length > 200) {
    throw fsErrors.invalid('lock owner must be a non-empty string of at most 200 characters (who holds it, for other callers)');
  }
  return { target: lockTarget(pathOrPrefix), ttlMs, owner };
}

export function waitOf(wait: unknown): number {
  if (wait === undefined) return 0;
  if (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0) {
    throw fsErrors.invalid(`wait must be a non-negative number of milliseconds, got ${String(wait)}`);
  }
  return wait;
}

export function grantOf(record: LockRecord): LockGrant {
  return { token: record.token, fence: record.fence, path: record.target, owner: record.owner, expiresAt: record.expiresAt };
}

function isLockedError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ELOCKED';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
