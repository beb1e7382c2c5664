/**
 * Disk bases: per virtual path under a versioned driver (the disk), the
 * version scopefs last wrote or read there. Every write and delete on that
 * driver is conditional on it, and every disk event is compared with it, so
 * "is this file on disk ours?" is an identity check, never a guess from
 * timing or from a window of recent contents.
 */
import type { VersionTag } from '../../persistence/drivers/types.js';

export interface DiskBase {
  /** The version scopefs last wrote or read at the path; null: it left no file there. */
  version: VersionTag | null;
  /** sha256 of that version, when known (an indexed file that was never read has none). */
  hash?: string;
  /**
   * Its bytes, when known: a three-way merge of an outside edit with a newer
   * memory version needs them. While memory equals the base this is the
   * entry's own buffer, so it costs nothing; it outlives it only until the
   * next persist.
   */
  content?: Uint8Array;
}

const ABSENT: DiskBase = Object.freeze({ version: null });

export class DiskBases {
  private readonly byPath = new Map<string, DiskBase>();
  /** Bumped on every change of a path's base, so a disk read can tell it was overtaken by our own write. */
  private readonly generations = new Map<string, number>();

  /** The base at `path`; the absent base when scopefs never saw a file there. */
  get(path: string): DiskBase {
    return this.byPath.get(path) ?? ABSENT;
  }

  set(path: string, base: DiskBase): void {
    if (base.version === null) this.byPath.delete(path);
    else this.byPath.set(path, base);
    this.generations.set(path, this.generation(path) + 1);
  }

  /** Fills in the hash and bytes of the version already recorded (after a lazy load of that version). */
  learn(path: string, version: VersionTag, hash: string, content: Uint8Array): void {
    if (this.byPath.get(path)?.version === version) this.byPath.set(path, { version, hash, content });
    else this.set(path, { version, hash, content });
  }

  generation(path: string): number {
    return this.generations.get(path) ?? 0;
  }

  clear(): void {
    this.byPath.clear();
    this.generations.clear();
  }
}
