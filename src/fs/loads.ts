/**
 * Lazy loads: the content of an indexed file is read from its driver on
 * first use. A load may be awaited outside the mailbox (a read's first half
 * hands it out); keeping its bytes happens inside (`install`).
 */
import { isVersioned, type VersionTag } from '../../persistence/drivers/types.js';
import { ScopeFsError, errorMessage, fsErrors } from '../errors.js';
import type { ConfigTable } from './configs.js';
import type { DiskBases } from './disk-bases.js';
import { setContent, type Entry, type EntryTable } from './entries.js';

/** What a lazy load brings back: the bytes, and their version on a versioned driver. */
export interface LoadedFile {
  content: Uint8Array;
  version?: VersionTag;
}

export type LoadedEntry = Entry & { content: Uint8Array };

export class Loads {
  /** Loads in flight, so concurrent first reads share one. */
  private readonly running = new Map<Entry, Promise<LoadedFile | null>>();

  constructor(
    private readonly entries: EntryTable,
    private readonly configs: ConfigTable,
    private readonly bases: DiskBases,
  ) {}

  /** Loads an entry's content once; ENOENT (and the entry dropped) when the driver no longer has it. */
  async ensure(entry: Entry): Promise<LoadedEntry> {
    if (entry.content) return entry as LoadedEntry;
    return this.install(entry, await this.start(entry));
  }

  /**
   * Starts loading an entry's content from its driver, or joins the load
   * already running, so concurrent first reads load once.
   */
  start(entry: Entry): Promise<LoadedFile | null> {
    const running = this.running.get(entry);
    if (running) return running;
    const location = this.configs.locate(entry.path);
    const path = entry.path;
    const load = (async (): Promise<LoadedFile | null> => {
      if (!location) return null;
      const { driver } = location.config;
      try {
        if (isVersioned(driver)) return await driver.read(location.driverPath);
        const content = await driver.load(location.driverPath);
        return content && { content };
      } catch (err) {
        throw new ScopeFsError('EIO', `loading ${JSON.stringify(path)} failed: ${errorMessage(err)}`, { path, cause: err });
      }
    })();
    this.running.set(entry, load);
    // Kept until installed, so reads queued behind the install join it; a failed load may be retried.
    load.catch(() => this.running.delete(entry));
    return load;
  }

  /**
   * Keeps loaded bytes unless the entry changed meanwhile: a write since the
   * load started has set newer content, which wins; a deleted entry is gone.
   */
  install(entry: Entry, loaded: LoadedFile | null): LoadedEntry {
    this.running.delete(entry);
    if (this.entries.get(entry.path) !== entry) throw fsErrors.notFound(entry.path);
    if (entry.content) return entry as LoadedEntry;
    if (!loaded) {
      this.entries.remove(entry.path);
      this.bases.set(entry.path, { version: null });
      throw fsErrors.notFound(entry.path);
    }
    setContent(entry, { bytes: loaded.content });
    // What was read is what memory now holds: the base a later outside edit is merged against.
    if (loaded.version !== undefined) this.bases.learn(entry.path, loaded.version, entry.checksum!, loaded.content);
    return entry as LoadedEntry;
  }
}
