/**
 * When a file on disk may still be half written: another program has just
 * created or truncated it (an editor's plain save truncates, then writes)
 * and its write is still to come. Read in between, the empty file would be
 * kept as the outside version, and a version of ours renamed over it would
 * leave that program writing into a file no longer at the path. So a file
 * modified less than SETTLE_MS ago is looked at again once it has been still
 * that long. The disk watcher and every disk check (Persister.check) share
 * this rule.
 */

/** A file modified less than this long ago may be half written. */
export const SETTLE_MS = 50;
/** A file that never stays still (a log appended to all along) is taken as it is after being put off this long. */
export const MAX_SETTLE_MS = 500;

/**
 * How long to wait before looking again at a file last modified at
 * `modifiedAtMs` (0: take it as it is); `since` is when it was first looked
 * at. A modification time in the future (a file stamped by hand, or a clock
 * we cannot compare with) counts as settled.
 */
export function settleDelay(modifiedAtMs: number, since: number, now = Date.now()): number {
  const age = now - modifiedAtMs;
  if (age < 0 || age >= SETTLE_MS) return 0;
  return Math.max(0, Math.min(SETTLE_MS - age, since + MAX_SETTLE_MS - now));
}
