/**
 * The order and bounds of a prune, over whatever tables a backend has: by
 * age, then by versions per path, then oldest first while over the byte
 * limit. Each step removes at most what is left of the budget; candidates
 * are never a path's latest version nor one a checkpoint references (the
 * backend's queries exclude those).
 */
import type { PruneBudget, PruneResult, Retention } from './types.js';

export interface PruneCandidate {
  revision: number;
  path: string;
  hash: string | null;
}

export interface PruneTables {
  /** Bytes of distinct content stored now. */
  bytes(): number;
  /** Prunable versions made before `cutoff`, oldest first. */
  byAge(cutoff: number, limit: number): PruneCandidate[];
  /** Prunable versions beyond the newest `max` of their path, oldest first. */
  beyondCount(max: number, limit: number): PruneCandidate[];
  /** Prunable versions, oldest first. */
  oldest(limit: number): PruneCandidate[];
  /** Removes one version (and its content when nothing else references it). */
  remove(candidate: PruneCandidate): void;
}

export function pruneSteps(tables: PruneTables, retention: Retention, budget: PruneBudget): PruneResult {
  const state = { removed: 0, more: false };
  const left = () => budget.maxRows - state.removed;
  const take = (candidates: PruneCandidate[], limit: number) => {
    if (candidates.length > limit) state.more = true;
    for (const candidate of candidates.slice(0, limit)) tables.remove(candidate);
    state.removed += Math.min(candidates.length, limit);
  };
  if (retention.maxAgeMs !== undefined) {
    const cutoff = (budget.now ?? Date.now()) - retention.maxAgeMs;
    take(tables.byAge(cutoff, left() + 1), left());
  }
  if (retention.maxVersionsPerPath !== undefined) take(tables.beyondCount(retention.maxVersionsPerPath, left() + 1), left());
  if (retention.maxBytes !== undefined) pruneBytes(tables, retention.maxBytes, left, take, state);
  return state;
}

function pruneBytes(
  tables: PruneTables,
  maxBytes: number,
  left: () => number,
  take: (candidates: PruneCandidate[], limit: number) => void,
  state: { more: boolean },
): void {
  // One at a time: a removal frees bytes only when its content is no longer referenced.
  while (tables.bytes() > maxBytes) {
    const next = tables.oldest(1);
    if (next.length === 0) return;
    if (left() === 0) {
      state.more = true;
      return;
    }
    take(next, 1);
  }
}
