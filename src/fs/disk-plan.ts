/**
 * The memory-vs-disk decision for one path, as a pure function: given what
 * memory holds, the disk base (the version scopefs last wrote or read
 * there) and what the disk holds now, what to do on each side. It is the
 * sync engine's `reconcile` with memory as the local side and the disk as
 * the remote one, so both follow one table (RECONCILE_TABLE); this module
 * turns the table's action into concrete changes. Applying a plan makes no
 * further choices (disk-replica.ts does the I/O).
 */
import type { VersionTag } from '../../persistence/drivers/types.js';
import { mergeContent } from '../sync/merge/index.js';
import { reconcile, type BaseSide, type ReconcileAction, type ReconcileCase } from '../sync/reconcile.js';
import type { DiskBase } from './disk-bases.js';

/** What memory holds; null when the path is absent (never there, or deleted with the delete pending). */
export interface MemorySide {
  /** sha256 of the content; undefined for a file not loaded yet, which by construction equals the base. */
  hash: string | undefined;
  content: Uint8Array | undefined;
}

/** What the disk holds now; null when absent. */
export interface DiskSide {
  version: VersionTag;
  /** sha256 of `content`. */
  hash: string;
  content: Uint8Array;
}

export type MemoryChange =
  /** Memory stays as it is. */
  | { kind: 'keep' }
  /** Memory already holds exactly the disk's content: nothing is left to persist. */
  | { kind: 'settled' }
  /** Memory takes the disk's version (an outside edit, or a file that came back). */
  | { kind: 'take_disk' }
  /** Memory follows a delete made on disk. */
  | { kind: 'delete' }
  /** Memory takes the merge of both sides, which must then be written to disk. */
  | { kind: 'merged'; content: Uint8Array };

export interface DiskPlan {
  case: ReconcileCase;
  action: ReconcileAction;
  /** The new base: always what was just read from disk, so the writes below are conditional on it. */
  base: DiskBase;
  memory: MemoryChange;
  /** `write`: persist memory's (new) content; `delete`: remove the disk file; `keep`: leave it. */
  disk: 'keep' | 'write' | 'delete';
  /** The disk's version could not be merged: it is kept beside the file as a conflict copy. */
  conflict?: { content: Uint8Array; reason: string };
}

/** Stands in for the hash of a version scopefs never read (indexed, not loaded): equal versions, equal tokens. */
const versionToken = (version: VersionTag): string => `version:${version}`;

export function planDisk(path: string, memory: MemorySide | null, base: DiskBase, disk: DiskSide | null): DiskPlan {
  const baseSide: BaseSide | null = base.version === null ? null : { hash: base.hash ?? versionToken(base.version), revision: base.version };
  // An unloaded file is what scopefs indexed or read, so it stands for the base.
  const local = memory === null ? null : { hash: memory.hash ?? baseSide?.hash ?? '' };
  // The same version as the base is the same content, whether or not its hash is known.
  const remote = disk === null ? null : { hash: disk.version === base.version && baseSide ? baseSide.hash : disk.hash, revision: disk.version };
  const decision = reconcile(local, baseSide, remote);
  const seen: DiskBase = disk === null ? { version: null } : { version: disk.version, hash: disk.hash, content: disk.content };
  const plan = (memoryChange: MemoryChange, diskChange: DiskPlan['disk'], conflict?: DiskPlan['conflict']): DiskPlan => ({
    case: decision.case,
    action: decision.action,
    base: seen,
    memory: memoryChange,
    disk: diskChange,
    ...(conflict ? { conflict } : {}),
  });

  switch (decision.action) {
    case 'nothing':
    case 'drop_base':
      // Both sides agree (or both deleted): only the base is refreshed.
      return plan({ kind: 'keep' }, 'keep');
    case 'update_base':
      // Both sides hold the same content: a change on one side was made on the other too.
      return plan(local?.hash === remote?.hash && memory?.hash !== undefined ? { kind: 'settled' } : { kind: 'keep' }, 'keep');
    case 'push':
      // At this point only memory changed (the disk is the base, touched, or gone): memory is written out.
      return plan({ kind: 'keep' }, memory === null ? 'delete' : 'write');
    case 'pull':
      // Only the disk changed: memory follows it, and a pending delete of the old version is void.
      return plan(disk === null ? { kind: 'delete' } : { kind: 'take_disk' }, 'keep');
    case 'merge':
    case 'conflict':
      // Both sides changed, differently: merge by kind against the base; what cannot be merged keeps both.
      return mergeBoth(path, memory!, base, disk!, plan);
  }
}

function mergeBoth(
  path: string,
  memory: MemorySide,
  base: DiskBase,
  disk: DiskSide,
  plan: (memory: MemoryChange, disk: DiskPlan['disk'], conflict?: DiskPlan['conflict']) => DiskPlan,
): DiskPlan {
  if (memory.content === undefined) {
    // Unreachable: memory differs from the base only when it holds new content, which is loaded.
    return plan({ kind: 'take_disk' }, 'keep');
  }
  const result = mergeContent({ path, base: base.content ?? null, local: memory.content, remote: disk.content });
  if (result.status === 'merged') return plan({ kind: 'merged', content: result.content }, 'write');
  // Memory (acknowledged by scopefs) stays in place; the outside version is kept beside it.
  return plan({ kind: 'keep' }, 'write', { content: disk.content, reason: result.reason });
}
