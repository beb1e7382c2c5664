import { watch, type FSWatcher } from 'chokidar';
import { relative, sep } from 'node:path';
import { Actor, type ActorCallbacks } from '../../supervisors/runtime/actor.js';
import type { FileSystem } from '../types.js';
import { isEngineStatusFile } from './engine-files.js';

type DiskChange = { absolutePath: string };

export interface DiskWatcherOptions {
  /** How long a file must stay unchanged before it is looked at (chokidar's awaitWriteFinish). */
  stabilityMs?: number;
}

/**
 * Tells the FileSystemServer about every change other programs make under
 * the root (an editor, a shell), with `checkDisk`. The server decides: its
 * own writes are recognised by their version (the disk base), an outside
 * edit is merged with memory or kept beside it, and names it cannot take in
 * are reported. The watcher itself holds no state about files.
 */
export class DiskWatcher implements ActorCallbacks<never, DiskChange> {
  actor!: Actor<never, DiskChange>;
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly root: string,
    private readonly options: DiskWatcherOptions = {},
  ) {}

  static async start(fs: FileSystem, root: string, options?: DiskWatcherOptions): Promise<DiskWatcher> {
    const watcher = new DiskWatcher(fs, root, options);
    watcher.actor = new Actor<never, DiskChange>(watcher, { name: 'disk-watcher' });
    await watcher.actor.start();
    return watcher;
  }

  async init(): Promise<void> {
    const stability = this.options.stabilityMs ?? 100;
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path) => this.ignored(path),
      awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.max(10, stability / 4) },
    });
    for (const event of ['add', 'change', 'unlink'] as const) {
      this.watcher.on(event, (p) => this.actor.cast({ absolutePath: p }));
    }
    this.watcher.on('error', () => undefined);
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  handleCall(): never {
    throw new Error('the disk watcher takes no calls');
  }

  /** One event at a time, in order: each is handed over before the next is looked at. */
  async handleCast(change: DiskChange): Promise<void> {
    const path = this.diskName(change.absolutePath);
    if (path !== null) await this.fs.checkDisk(path);
  }

  async terminate(): Promise<void> {
    await this.watcher?.close();
  }

  private ignored(absolutePath: string): boolean {
    const rel = relative(this.root, absolutePath);
    const first = rel.split(sep)[0];
    // Engine state (the journal, sync state, temp files) and the status files the engine writes itself.
    return first === '.scopefs' || isEngineStatusFile(`/${rel}`);
  }

  /** The path as named on disk (not normalised: the server reports names it cannot take in). */
  private diskName(absolutePath: string): string | null {
    const rel = relative(this.root, absolutePath);
    if (rel === '' || rel.startsWith('..')) return null;
    return `/${rel.split(sep).join('/')}`;
  }
}
