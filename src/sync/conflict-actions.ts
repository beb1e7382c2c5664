/**
 * The sync actor's conflict handlers: resolving by API, resolving by deleting
 * the copy, adopting an outside edit the FileSystemServer kept beside its
 * file, and catching the records up at start. Each returns the path whose
 * outcome must now be synced, if any; the actor schedules that pass.
 */
import { ScopeFsError } from '../errors.js';
import { normalizePath } from '../paths.js';
import type { FileSystem } from '../types.js';
import { conflictRepairs } from './conflict-repair.js';
import type { SyncEngine } from './engine.js';
import type { ConflictResolution, SyncEvent } from './types.js';

export interface ConflictActionsDeps {
  fs: FileSystem;
  engine: SyncEngine;
  emit: (event: SyncEvent) => void;
}

export class ConflictActions {
  constructor(private readonly deps: ConflictActionsDeps) {}

  /** Writes the chosen side (or content) and closes the path's conflicts; returns the path to push. */
  async resolve(rawPath: string, resolution: ConflictResolution): Promise<string> {
    const path = normalizePath(rawPath);
    const { fs, engine, emit } = this.deps;
    const conflicts = engine.conflicts;
    if (!conflicts.has(path) && engine.held.has(path)) return this.resolveHeld(path, resolution);
    if (!conflicts.has(path)) throw new ScopeFsError('ENOENT', `no open conflict for ${JSON.stringify(path)}`, { path });
    if (resolution === 'remote') {
      const remote = await conflicts.remoteContent(path);
      if (remote === null) throw new ScopeFsError('ENOENT', `the conflict copy of ${JSON.stringify(path)} is gone`, { path });
      await fs.writeFile(path, remote);
    } else if (typeof resolution === 'object') {
      await fs.writeFile(path, resolution.content);
    } else if (resolution !== 'local') {
      throw new ScopeFsError('EINVAL', `resolution must be 'local', 'remote' or { content }`, { path });
    }
    await conflicts.clear(path);
    emit({ type: 'conflict_resolved', path, resolution: typeof resolution === 'object' ? 'content' : resolution });
    return path;
  }

  /**
   * A path a fail-stop rule holds: its next decision keeps the chosen side
   * (the other becomes a resolved copy, as with a `local` or `remote` rule);
   * given content is written first and kept as the local side.
   */
  private async resolveHeld(path: string, resolution: ConflictResolution): Promise<string> {
    const { fs, engine, emit } = this.deps;
    if (typeof resolution === 'object') await fs.writeFile(path, resolution.content);
    else if (resolution !== 'local' && resolution !== 'remote') {
      throw new ScopeFsError('EINVAL', `resolution must be 'local', 'remote' or { content }`, { path });
    }
    engine.held.resolve(path, typeof resolution === 'object' ? 'local' : resolution);
    emit({ type: 'conflict_resolved', path, resolution: typeof resolution === 'object' ? 'content' : resolution });
    return path;
  }

  /** An agent deleting the conflict copy (after editing the file) resolves the conflict; returns the path to push. */
  async copyDeleted(copyPath: string): Promise<string | undefined> {
    const conflicts = this.deps.engine.conflicts;
    const conflict = await conflicts.clearCopy(copyPath);
    // The path stays held while another of its conflicts is open.
    if (!conflict || conflicts.has(conflict.path)) return undefined;
    this.deps.emit({ type: 'conflict_resolved', path: conflict.path, resolution: 'edited' });
    return conflict.path;
  }

  /**
   * An outside edit the FileSystemServer could not merge is a conflict like
   * one with another instance: the path is held, agents see it in the
   * conflict report, and resolving it (by API or by deleting the copy)
   * pushes the outcome. Paths sync does not carry keep the copy and the
   * failure-log note only. Returns whether a conflict was opened.
   */
  async diskConflict(path: string, copyPath: string): Promise<boolean> {
    const { fs, engine, emit } = this.deps;
    if (!engine.syncs(path) || engine.conflicts.byCopyPath(copyPath)) return false;
    const read = (p: string) => fs.readFile(p, { encoding: 'bytes' }).catch(() => null);
    const remote = await read(copyPath);
    if (remote === null) return false; // the copy is gone already: resolved before it was recorded
    const local = (await read(path)) ?? new Uint8Array(0);
    const conflict = await engine.conflicts.adopt({ path, copyPath, local, remote, remoteRevision: 0, remoteInstance: 'disk', at: new Date() });
    emit({ type: 'conflict', conflict });
    return true;
  }

  /** Catches the records up with copies deleted, moved or left behind while no sync actor was watching. */
  async repair(): Promise<{ resolved: string[]; opened: boolean }> {
    const conflicts = this.deps.engine.conflicts;
    const files = new Set(await this.deps.fs.listFiles('/'));
    const resolved: string[] = [];
    let opened = false;
    for (const repair of conflictRepairs(conflicts.list(), files)) {
      if (repair.kind === 'gone') {
        const path = await this.copyDeleted(repair.copyPath);
        if (path !== undefined) resolved.push(path);
      } else if (repair.kind === 'adopt') {
        opened = (await this.diskConflict(repair.path, repair.copyPath)) || opened;
      } else {
        await conflicts.followMove(repair.from, repair.to);
      }
    }
    return { resolved, opened };
  }
}
