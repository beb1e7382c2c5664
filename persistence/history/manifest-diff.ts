/**
 * Decides what a new checkpoint changes in its prefix's manifest ranges:
 * entries to close (their file changed or went away) and entries to open.
 * Unchanged files cost nothing, which keeps a checkpoint's bytes
 * proportional to the changes since the previous one of the same prefix.
 */
import type { CheckpointFile } from './types.js';

export interface ManifestDiff<F extends CheckpointFile> {
  /** Paths whose current entry ends at the new checkpoint. */
  close: string[];
  /** Files that start an entry at the new checkpoint. */
  open: F[];
}

export function diffManifest<F extends CheckpointFile>(current: ReadonlyMap<string, CheckpointFile>, files: readonly F[]): ManifestDiff<F> {
  const close: string[] = [];
  const open: F[] = [];
  const listed = new Set<string>();
  for (const file of files) {
    listed.add(file.path);
    const entry = current.get(file.path);
    if (entry && entry.hash === file.hash && entry.size === file.size) continue;
    if (entry) close.push(file.path);
    open.push(file);
  }
  for (const path of current.keys()) if (!listed.has(path)) close.push(path);
  return { close, open };
}
