/**
 * The safety gate: before a reconciliation propagates deletions, check that
 * it does not look like an accident (an unmounted disk, a wrong root, a
 * script gone wrong). When it does, the engine pauses and waits for someone
 * to confirm instead of deleting files on every instance.
 */
import { fsErrors } from '../errors.js';

export const DEFAULT_MAX_DELETE_RATIO = 0.5;
/**
 * Below this many synced files the gate stays open: deleting 2 of 3 notes is
 * everyday work, and pausing on it would make small scopes unusable.
 */
export const MIN_GUARDED_FILES = 4;

export interface DeletionSafetyInput {
  /** Files currently synced (paths with a base). */
  syncedCount: number;
  /** Deletions this reconciliation would propagate. */
  deletions: number;
  /** Files present under the local root now. */
  localFileCount: number;
  /** Largest share of synced files one reconciliation may delete; default 0.5. */
  maxDeleteRatio?: number;
  /** Sets smaller than this are never held; default MIN_GUARDED_FILES. */
  minGuardedFiles?: number;
}

export type DeletionSafety = { ok: true } | { ok: false; reason: string };

export function checkDeletionSafety(input: DeletionSafetyInput): DeletionSafety {
  const { syncedCount, deletions, localFileCount } = input;
  const maxDeleteRatio = input.maxDeleteRatio ?? DEFAULT_MAX_DELETE_RATIO;
  const minGuardedFiles = input.minGuardedFiles ?? MIN_GUARDED_FILES;
  validate(input, maxDeleteRatio);
  if (syncedCount < minGuardedFiles) return { ok: true };
  if (localFileCount === 0) {
    return held(`the root is empty but ${syncedCount} files were synced; the root may be missing or unmounted`);
  }
  if (deletions / syncedCount > maxDeleteRatio) {
    const share = Math.round((deletions / syncedCount) * 100);
    const limit = Math.round(maxDeleteRatio * 100);
    return held(`this reconciliation would delete ${deletions} of ${syncedCount} synced files (${share}%, over the ${limit}% limit)`);
  }
  return { ok: true };
}

function held(why: string): DeletionSafety {
  return { ok: false, reason: `sync paused by the safety gate: ${why}; confirm to go ahead` };
}

function validate(input: DeletionSafetyInput, maxDeleteRatio: number): void {
  for (const key of ['syncedCount', 'deletions', 'localFileCount'] as const) {
    const value = input[key];
    if (!Number.isInteger(value) || value < 0) throw fsErrors.invalid(`${key} must be a non-negative integer, got ${value}`);
  }
  if (!(maxDeleteRatio >= 0 && maxDeleteRatio <= 1)) {
    throw fsErrors.invalid(`maxDeleteRatio must be between 0 and 1, got ${maxDeleteRatio}`);
  }
}
