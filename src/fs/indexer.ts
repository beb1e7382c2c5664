/**
 * Building the file table from persistence: indexing a config's files
 * (metadata only; content loads lazily) and replaying journal records on top.
 */
import { fsErrors } from '../errors.js';
import { normalizePath } from '../paths.js';
import type { ConfigTable, ResolvedConfig } from './configs.js';
import type { DiskBases } from './disk-bases.js';
import { setContent, type Entry, type EntryTable } from './entries.js';
import type { JournalOp } from './journal-codec.js';
import { mimeTypeFor } from './mime.js';
import type { Persister } from './persister.js';
import type { PersistScheduler } from './persist-scheduler.js';

export interface IndexDeps {
  entries: EntryTable;
  configs: ConfigTable;
  bases: DiskBases;
  nextRevision: () => number;
  /** A file the driver left out because of its name (see ListOptions). */
  onSkipped: (name: string, reason: string, collides: boolean) => void;
}

/**
 * Adds an unloaded entry for every file `config`'s driver holds that the
 * config owns (not shadowed by a longer base) and memory does not already
 * have. Files whose names are not valid virtual paths are skipped. Records
 * the disk base of every file a versioned driver lists. Returns the number
 * of entries added.
 */
export async function indexConfig(deps: IndexDeps, config: ResolvedConfig): Promise<number> {
  let files;
  try {
    files = await config.driver.list('/', { onSkipped: (name, reason, collides) => deps.onSkipped(deps.configs.virtualPath(config, name), reason, collides) });
  } catch (err) {
    throw fsErrors.io(config.base, err);
  }
  if (!Array.isArray(files)) throw fsErrors.io(config.base, `driver ${config.driver.name} listed something other than an array`);
  let added = 0;
  for (const file of files) {
    if (typeof file?.path !== 'string') continue;
    const path = validPath(deps.configs.virtualPath(config, file.path));
    if (!path || deps.configs.locate(path)?.config !== config) continue;
    // Listing is reading the file's identity: the base, whether memory has the path already or not.
    if (file.version !== undefined) deps.bases.set(path, { version: file.version });
    if (deps.entries.has(path) || !deps.entries.isPlaceable(path)) continue;
    deps.entries.add(unloadedEntry(path, { size: file.size, createdAt: file.createdAt, modifiedAt: file.modifiedAt }, deps.nextRevision()));
    added++;
  }
  return added;
}

export interface KnownFile {
  size?: number;
  createdAt?: number;
  modifiedAt?: number;
  mimeType?: string;
}

/** An entry for a persisted file whose content is not loaded yet. */
export function unloadedEntry(path: string, file: KnownFile, revision: number): Entry {
  const modifiedAt = file.modifiedAt ?? Date.now();
  return {
    path,
    content: undefined,
    text: undefined,
    size: file.size ?? 0,
    createdAt: file.createdAt ?? modifiedAt,
    modifiedAt,
    mimeType: file.mimeType ?? mimeTypeFor(path),
    checksum: undefined,
    hashing: undefined,
    revision,
    dirty: false,
    memoryOnly: false,
  };
}

export interface ReplayDeps extends IndexDeps {
  persister: Persister;
  scheduler: PersistScheduler;
}

/**
 * Applies journal operations onto the indexed state. Every op states the
 * final state of its path, so ops already persisted change nothing. Replayed
 * puts are dirty (to be persisted); replayed deletes are pending deletes.
 * Nothing is written yet: the caller settles the disk bases first.
 */
export function replayOps(deps: ReplayDeps, ops: readonly JournalOp[]): void {
  for (const op of ops) {
    const path = validPath(op.path);
    if (!path) continue;
    const location = deps.configs.locate(path);
    if (op.op === 'delete') {
      deps.entries.remove(path);
      deps.scheduler.forget(path);
      if (location) deps.persister.planRemove(path, location);
      continue;
    }
    deps.persister.cancelRemove(location);
    const entry = unloadedEntry(path, op, deps.nextRevision());
    entry.memoryOnly = !location;
    setContent(entry, { bytes: op.content });
    deps.entries.remove(path);
    deps.entries.add(entry);
    deps.entries.setDirty(entry, location !== undefined && !location.config.readonly);
  }
}

function validPath(path: string): string | undefined {
  try {
    return normalizePath(path);
  } catch {
    return undefined;
  }
}
