/**
 * Adding to the table at run time what persistence holds: files a driver
 * has (registered lazily, metadata only) and whole configs (indexed, with
 * the entries they now own moved over to them).
 */
import { fsErrors } from '../errors.js';
import { normalizePath } from '../paths.js';
import type { PersistenceConfig } from '../types.js';
import type { Location } from './configs.js';
import { putOp, setContent, type Entry } from './entries.js';
import { indexConfig, unloadedEntry, type KnownFile, type ReplayDeps } from './indexer.js';
import type { JournalKeeper } from './journal-keeper.js';

export interface RegistrationDeps {
  indexing: ReplayDeps;
  journal: JournalKeeper;
}

/** Adds lazily loaded entries for files a driver holds; files already known are left alone. */
export function registerFiles({ indexing }: RegistrationDeps, files: Array<{ path: string } & KnownFile>): void {
  const { entries, configs } = indexing;
  if (!Array.isArray(files)) throw fsErrors.invalid('registerFiles needs an array of files');
  // Validate everything first: a bad file rejects the call without adding any.
  const added = new Map<string, Entry>();
  for (const file of files) {
    const path = normalizePath(file?.path);
    if (!configs.locate(path)) {
      throw fsErrors.invalid(`no persistence config covers ${JSON.stringify(path)}, so it cannot be loaded lazily`, path);
    }
    if (entries.has(path) || added.has(path)) continue;
    entries.assertPlaceable(path);
    added.set(path, unloadedEntry(path, file, 0));
  }
  for (const entry of added.values()) {
    entry.revision = indexing.nextRevision();
    entries.add(entry);
  }
}

/**
 * Adds a config and indexes its files. Entries already in memory that the
 * new config now owns keep their content (memory wins) and are persisted
 * to it; their copies under the previous owner are left alone.
 */
export async function registerPersistence({ indexing, journal }: RegistrationDeps, config: PersistenceConfig): Promise<void> {
  const { entries, configs, bases, persister } = indexing;
  const before = new Map<string, Location | undefined>();
  for (const entry of entries.values()) before.set(entry.path, configs.locate(entry.path));
  // Content must be in memory before ownership changes, or it could not be found any more.
  const resolved = configs.add(config);
  const moved = [...entries.values()].filter((e) => configs.locate(e.path)?.config === resolved);
  try {
    for (const entry of moved) if (!entry.content) await loadFrom(indexing, entry, before.get(entry.path));
    // Bases belong to the previous owner; the new owner's files, if any, are indexed below.
    for (const entry of moved) bases.set(entry.path, { version: null });
    await indexConfig(indexing, resolved);
  } catch (err) {
    configs.remove(resolved);
    throw err;
  }
  for (const entry of moved) adopt(indexing, entry, resolved.readonly);
  journal.append(moved.filter((e) => e.dirty).map((e) => putOp(e)), resolved.base);
  for (const entry of moved) void persister.persist(entry.path);
}

/** Loads an entry from an explicit location (its owner before a config change); drops it when gone. */
async function loadFrom({ entries }: ReplayDeps, entry: Entry, location: Location | undefined): Promise<void> {
  let bytes: Uint8Array | null = null;
  try {
    bytes = location ? await location.config.driver.load(location.driverPath) : null;
  } catch (err) {
    throw fsErrors.io(entry.path, err);
  }
  if (bytes) setContent(entry, { bytes });
  else entries.remove(entry.path);
}

function adopt({ entries, nextRevision }: ReplayDeps, entry: Entry, readonly: boolean): void {
  if (!entries.has(entry.path)) return;
  entry.memoryOnly = false;
  entry.revision = nextRevision();
  entries.setDirty(entry, !readonly);
}
