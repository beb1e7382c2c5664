/**
 * Quiescence, checked against the store itself rather than trusted from
 * `idle()` alone (which can resolve while a pass is in flight: see
 * findings.test.ts): every instance idle and live, its cursor at the store's
 * head, nothing pending, and each of its synced files equal to the store's
 * live row (except paths with an open conflict or held by a fail-stop rule,
 * which keep their local side).
 */
import { isConflictCopy } from '../../../src/sync/conflict-copy.js';
import { deniedReason } from '../../../src/sync/denylist.js';
import type { SyncStatus } from '../../../src/sync/types.js';
import { SHARED_OWNER, type SyncStore } from '../../../persistence/stores/types.js';

/** The store's live shared rows of an app: path to hash. */
export async function liveRows(store: SyncStore, app: string): Promise<Map<string, string>> {
  const rows = new Map<string, string | null>();
  let cursor = 0;
  for (;;) {
    const page = await store.since(app, [SHARED_OWNER], cursor, 500);
    for (const row of page.rows) rows.set(row.path, row.deleted ? null : row.hash);
    cursor = page.cursor;
    if (!page.more) break;
  }
  return new Map([...rows].filter((entry): entry is [string, string] => entry[1] !== null));
}

export interface InstanceState {
  name: string;
  status: SyncStatus;
  /** Every file the instance serves: path to sha256. */
  digests: Record<string, string>;
}

/** Why the instances and the store are not (yet) quiescent; empty when they are. */
export function quiescenceGaps(head: number, rows: Map<string, string>, instances: InstanceState[]): string[] {
  const gaps: string[] = [];
  for (const { name, status, digests } of instances) {
    if (status.state !== 'live') gaps.push(`${name} is ${status.state}`);
    if (status.cursor !== head) gaps.push(`${name} is at cursor ${status.cursor}, the store at ${head}`);
    if (status.pending.length > 0) gaps.push(`${name} has pending ${status.pending.join(', ')}`);
    const conflicted = new Set([...status.conflicts, ...(status.held ?? []).map((h) => h.path)]);
    const synced = Object.keys(digests).filter((p) => deniedReason(p) === null && !isConflictCopy(p) && !conflicted.has(p));
    for (const path of synced) {
      if (rows.get(path) !== digests[path]) gaps.push(`${name}: ${path} differs from the store`);
    }
    for (const path of rows.keys()) {
      if (!(path in digests) && !conflicted.has(path)) gaps.push(`${name}: ${path} is live in the store but missing here`);
    }
  }
  return gaps;
}
