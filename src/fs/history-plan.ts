/**
 * What restoring or comparing checkpoints must change, as pure functions of
 * values: the manifest, and the files as they are now (path -> hash, size).
 * The history API (history-api.ts) gathers the values and carries the plan out.
 */
import { isUnder } from '../paths.js';
import type { CheckpointDiff } from '../types.js';
import type { CheckpointFile } from '../../persistence/history/types.js';

/** A file as it is now: its hash and size. */
export interface CurrentFile {
  hash: string;
  size: number;
}

export interface CheckpointPlan {
  /** Files to write back: present now with other content. */
  write: CheckpointFile[];
  /** Files to create: absent now. */
  create: CheckpointFile[];
  /** Paths to delete: present now, not in the manifest. */
  delete: string[];
  unchanged: number;
}

/** What brings the files under `prefix` to the manifest's state; paths ascending. */
export function planCheckpointRestore(
  manifest: readonly CheckpointFile[],
  current: ReadonlyMap<string, CurrentFile>,
  prefix: string,
): CheckpointPlan {
  const plan: CheckpointPlan = { write: [], create: [], delete: [], unchanged: 0 };
  const wanted = new Set<string>();
  for (const file of manifest) {
    if (!isUnder(file.path, prefix)) continue;
    wanted.add(file.path);
    const now = current.get(file.path);
    if (!now) plan.create.push(file);
    else if (now.hash !== file.hash) plan.write.push(file);
    else plan.unchanged++;
  }
  for (const path of current.keys()) if (isUnder(path, prefix) && !wanted.has(path)) plan.delete.push(path);
  plan.write.sort(byPath);
  plan.create.sort(byPath);
  plan.delete.sort();
  return plan;
}

/** How the files of `to` differ from those of `from`. */
export function diffFiles(
  from: { name: string; files: ReadonlyMap<string, CurrentFile> },
  to: { name: string; files: ReadonlyMap<string, CurrentFile> },
): CheckpointDiff {
  const diff: CheckpointDiff = { from: from.name, to: to.name, added: [], removed: [], changed: [] };
  for (const [path, file] of to.files) {
    const before = from.files.get(path);
    if (!before) diff.added.push(path);
    else if (before.hash !== file.hash) diff.changed.push(path);
  }
  for (const path of from.files.keys()) if (!to.files.has(path)) diff.removed.push(path);
  diff.added.sort();
  diff.removed.sort();
  diff.changed.sort();
  return diff;
}

/** A manifest as a map, keeping only the files under `prefix`. */
export function filesUnder(files: readonly CheckpointFile[], prefix: string): Map<string, CurrentFile> {
  const map = new Map<string, CurrentFile>();
  for (const file of files) if (isUnder(file.path, prefix)) map.set(file.path, { hash: file.hash, size: file.size });
  return map;
}

function byPath(a: CheckpointFile, b: CheckpointFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
