/**
 * Conflict records against the files as they are when the sync actor starts.
 * While it was not running (the process was down, or the actor was being
 * restarted) nobody saw copies being deleted or moved, so a record can name a
 * copy that is gone. A pure decision; the sync actor carries it out.
 */
import { basename, dirname, normalizePrefix } from '../paths.js';
import { conflictOriginal, isConflictCopy } from './conflict-copy.js';
import type { ConflictRecord } from './types.js';

export type ConflictRepair =
  /** The copy (or the conflicted file with it) moved: the conflict follows. */
  | { kind: 'moved'; from: string; to: string }
  /** The copy was deleted: whoever deleted it resolved the conflict, as while running. */
  | { kind: 'gone'; copyPath: string }
  /**
   * A copy no record names beside its file: the process died between writing
   * the copy and recording it (or the filesystem kept an outside edit beside
   * the file while sync was not running). It becomes an open conflict.
   */
  | { kind: 'adopt'; path: string; copyPath: string };

/**
 * A missing copy found under the same name (which carries its time and
 * instance) in exactly one other place moved there, and the conflicted file
 * follows when it moved to the same place. Found nowhere, it was deleted.
 * Found in several places, nothing is decided: the record stays as it is.
 * Any other copy no record names, whose file is there, is adopted.
 */
export function conflictRepairs(records: readonly ConflictRecord[], files: ReadonlySet<string>): ConflictRepair[] {
  const tracked = new Set(records.map((r) => r.copyPath));
  const untracked = [...files].filter((path) => isConflictCopy(path) && !tracked.has(path));
  const repairs: ConflictRepair[] = [];
  for (const record of records) {
    if (files.has(record.copyPath)) continue;
    const found = untracked.filter((path) => basename(path) === basename(record.copyPath));
    if (found.length === 0) repairs.push({ kind: 'gone', copyPath: record.copyPath });
    if (found.length !== 1) continue;
    const copyTo = found[0]!;
    repairs.push({ kind: 'moved', from: record.copyPath, to: copyTo });
    const fileTo = normalizePrefix(dirname(copyTo)) + basename(record.path);
    const movedTogether = dirname(record.path) === dirname(record.copyPath);
    if (movedTogether && !files.has(record.path) && files.has(fileTo)) repairs.push({ kind: 'moved', from: record.path, to: fileTo });
  }
  const followed = new Set(repairs.flatMap((r) => (r.kind === 'moved' ? [r.to] : [])));
  for (const copyPath of untracked) {
    const path = conflictOriginal(copyPath);
    if (path !== null && files.has(path) && !followed.has(copyPath)) repairs.push({ kind: 'adopt', path, copyPath });
  }
  return repairs;
}
