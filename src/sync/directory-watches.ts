import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** How long names are gathered before they are handed over, and the most a busy stream of events is held. */
const QUIET_MS = 20;
const MAX_HOLD_MS = 200;

/**
 * One `fs.watch` per directory under a root (inotify on Linux watches a
 * directory's entries, not a tree), so the cost grows with directories, not
 * files. A directory is watched first and listed second: whatever appears in
 * it is either seen by the listing or reported by the watch, which is the
 * race a watcher that lists before it watches loses when a tree is created
 * at once (`mkdir -p a/b && touch a/b/c`, `git clone`, `tar x`).
 *
 * It knows only names: the paths that changed are gathered for a moment
 * (`QUIET_MS`, at most `MAX_HOLD_MS`) and handed to `onChanged`, so a burst
 * of writes to one file becomes one look. Deciding what a name is (a file,
 * a new directory to `add`, a vanished one to `remove`) is the caller's job.
 */
export class DirectoryWatches {
  private readonly watches = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private lastChangeAt = 0;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly onChanged: (absolutePaths: string[]) => void,
    private readonly ignored: (absolutePath: string) => boolean,
    /** How long names are gathered: the disk watcher's defaults, or shorter for a reader that wants every append soon (the tail). */
    private readonly timing: { quietMs: number; maxHoldMs: number } = { quietMs: QUIET_MS, maxHoldMs: MAX_HOLD_MS },
  ) {}

  /** Watches every directory under the root; files already there are not reported. */
  async start(): Promise<void> {
    await this.add(this.root, false);
  }

  /**
   * Watches `dir` and the directories below it, then lists them. With
   * `report`, every file found is reported as changed (a directory that
   * appeared brings its files with it).
   */
  async add(dir: string, report = true): Promise<void> {
    if (this.closed || this.watches.has(dir) || this.ignored(dir)) return;
    if (!this.watchOne(dir)) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.add(path, report);
      else if (report && !this.ignored(path)) this.changed(path);
    }
  }

  /** Stops watching `dir` and everything below it (it was removed or moved away). */
  remove(dir: string): void {
    const below = dir + sep;
    for (const [path, watcher] of this.watches) {
      if (path === dir || path.startsWith(below)) {
        watcher.close();
        this.watches.delete(path);
      }
    }
  }

  isWatched(dir: string): boolean {
    return this.watches.has(dir);
  }

  get size(): number {
    return this.watches.size;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.holdTimer);
    for (const watcher of this.watches.values()) watcher.close();
    this.watches.clear();
  }

  private watchOne(dir: string): boolean {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // No name: the kernel dropped some (a queue overflow): look at the whole directory again.
        if (name === null) void this.add(dir, true).catch(() => undefined);
        else this.changed(join(dir, name.toString()));
      });
      // The directory went away (or cannot be watched any more): forget it; its parent reports the removal.
      watcher.on('error', () => this.remove(dir));
      this.watches.set(dir, watcher);
      return true;
    } catch {
      // Gone already, or out of watches (ENOSPC): edits there are still caught by the persister's compare-and-swap.
      return false;
    }
  }

  private changed(path: string): void {
    if (this.closed || this.ignored(path)) return;
    this.pending.add(path);
    // One quiet timer per burst, not one per event: it is moved on only when it fires too early.
    this.lastChangeAt = performance.now();
    this.quietTimer ??= setTimeout(() => this.quietOver(), this.timing.quietMs);
    this.holdTimer ??= setTimeout(() => this.handOver(), this.timing.maxHoldMs);
  }

  /** Hands over once nothing changed for quietMs; a burst still going on sets the timer again for the rest. */
  private quietOver(): void {
    const still = this.timing.quietMs - (performance.now() - this.lastChangeAt);
    if (still > 1) this.quietTimer = setTimeout(() => this.quietOver(), still);
    else this.handOver();
  }

  private handOver(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.holdTimer);
    this.quietTimer = this.holdTimer = undefined;
    const paths = [...this.pending];
    this.pending = new Set();
    if (paths.length > 0) this.onChanged(paths);
  }
}
