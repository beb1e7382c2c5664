/**
 * Argument checks shared by every SyncStore implementation, so that bad input
 * is rejected the same way (EINVAL naming the argument) whatever the backend.
 */
import { sha256 } from '../../src/content.js';
import { ScopeFsError } from '../../src/errors.js';
import type { PushChange } from './types.js';

/** Rows per `since` page when the caller gives no limit. */
export const DEFAULT_SINCE_LIMIT = 500;

/** A push change after validation: the hash is filled in for content, null for tombstones. */
export interface CheckedChange {
  owner: string;
  path: string;
  baseRevision: number;
  content: Uint8Array | null;
  hash: string | null;
  size: number;
  batch?: string;
}

const invalid = (message: string, path?: string) => new ScopeFsError('EINVAL', message, { path });

export function checkName(kind: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
    throw invalid(`store ${kind} must be a non-empty string without NUL, got ${JSON.stringify(value)}`);
  }
}

export function checkRevision(kind: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`store ${kind} must be a non-negative integer, got ${String(value)}`);
  }
}

export function checkLeaseArgs(name: unknown, holder: unknown, ttlMs: unknown): void {
  checkName('lease name', name);
  checkName('lease holder', holder);
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw invalid(`a lease TTL must be a positive integer of milliseconds, got ${String(ttlMs)}`);
  }
}

/** What follows `scheme:` in a store URL; EINVAL naming `what` when nothing does. */
export function urlRest(url: string, scheme: string, what: string): string {
  const rest = url.slice(scheme.length + 1);
  if (rest.length === 0) throw invalid(`store URL "${scheme}:" needs ${what}`);
  return rest;
}

export function checkIdentity(app: unknown, owner: unknown, path: unknown): void {
  checkName('app', app);
  checkName('owner', owner);
  checkName('path', path);
}

export function checkSinceArgs(app: unknown, owners: unknown, cursor: unknown, limit: unknown): number {
  checkName('app', app);
  if (!Array.isArray(owners)) throw invalid('store owners must be an array of owner ids');
  for (const owner of owners) checkName('owner', owner);
  checkRevision('cursor', cursor);
  if (limit === undefined) return DEFAULT_SINCE_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw invalid(`store since limit must be a positive integer, got ${String(limit)}`);
  }
  return limit;
}

export function checkPushArgs(app: unknown, instanceId: unknown, changes: unknown): CheckedChange[] {
  checkName('app', app);
  checkName('instance id', instanceId);
  if (!Array.isArray(changes)) throw invalid('store push changes must be an array');
  return changes.map((change: PushChange) => checkChange(change));
}

/** Longest batch id a store keeps. */
const MAX_BATCH_ID = 200;

function checkChange(change: PushChange): CheckedChange {
  if (typeof change !== 'object' || change === null) throw invalid('store push change must be an object');
  checkName('owner', change.owner);
  checkName('path', change.path);
  checkRevision(`base revision of ${JSON.stringify(change.path)}`, change.baseRevision);
  const batch = checkBatch(change.batch);
  const { content } = change;
  if (content === null) {
    return { owner: change.owner, path: change.path, baseRevision: change.baseRevision, content: null, hash: null, size: 0, ...batch };
  }
  if (!(content instanceof Uint8Array)) {
    throw invalid(`store push content of ${JSON.stringify(change.path)} must be a Uint8Array or null`, change.path);
  }
  // Stores trust a given hash (the engine computed it already) and fill in a missing one.
  const hash = change.hash ?? sha256(content);
  return { owner: change.owner, path: change.path, baseRevision: change.baseRevision, content, hash, size: content.byteLength, ...batch };
}

function checkBatch(batch: unknown): { batch?: string } {
  if (batch === undefined) return {};
  if (typeof batch !== 'string' || batch.length === 0 || batch.length > MAX_BATCH_ID || batch.includes('\u0000')) {
    throw invalid(`a store push batch id must be a non-empty string of at most ${MAX_BATCH_ID} characters without NUL, got ${JSON.stringify(batch)}`);
  }
  return { batch };
}

/**
 * The batches of a push that commit nothing: those in which a change's base
 * is not the current revision (`revisionOf`, read before anything of the
 * push is applied). The memory and SQLite stores use it; the SQL stores
 * decide the same in scopefs_push.
 */
export function refusedBatches(changes: readonly CheckedChange[], revisionOf: (change: CheckedChange) => number): Set<string> {
  const refused = new Set<string>();
  for (const change of changes) {
    if (change.batch !== undefined && !refused.has(change.batch) && revisionOf(change) !== change.baseRevision) refused.add(change.batch);
  }
  return refused;
}
