import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESERVED_SEGMENT } from '../paths.js';
import { makePrivateDir } from '../private-files.js';
import { FAILURES_PATH, STATUS_PATH } from './engine-files.js';
import type { SyncFailure, SyncStatus } from './types.js';

/** At most this often (about four times a second), whatever the write rate. */
export const STATUS_MIN_INTERVAL_MS = 250;

interface Report {
  status: SyncStatus;
  failures: SyncFailure[];
}

/**
 * Keeps `<root>/.sync-status.json` and `<root>/.sync-failures.json` current
 * for people and agents that read the root. Written straight to disk, not
 * through the FileSystemServer, so they never show in listings, stats or the
 * event stream (see engine-files.ts). Updates are coalesced: the first after
 * a quiet spell is written at once, later ones at most every `minIntervalMs`,
 * and the latest always lands (`close` writes what is still due). Without a
 * root there is nothing to write: the status API is the only view.
 */
export class StatusReport {
  private due: Report | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = 0;
  private lastStatus = '';
  private lastFailures = '';
  private closed = false;

  constructor(
    private readonly root: string | undefined,
    private readonly minIntervalMs = STATUS_MIN_INTERVAL_MS,
  ) {}

  /** Records the current status; it reaches disk within `minIntervalMs`. */
  update(status: SyncStatus, failures: SyncFailure[]): void {
    if (this.root === undefined) return;
    this.due = { status, failures };
    this.schedule();
  }

  /** Writes whatever is still due, and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing !== undefined) await this.writing;
    await this.flush();
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined || this.writing !== undefined) return; // a running write reschedules
    const wait = Math.max(0, this.lastWriteAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    const report = this.due;
    this.due = undefined;
    if (report === undefined) return;
    this.writing = this.write(report);
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
      this.lastWriteAt = Date.now();
    }
    if (this.due !== undefined) this.schedule();
  }

  /** Unchanged content is not rewritten; the failures file appears with the first failure. */
  private async write({ status, failures }: Report): Promise<void> {
    const statusText = `${JSON.stringify(status, null, 2)}\n`;
    if (statusText !== this.lastStatus && (await this.replace(STATUS_PATH, statusText))) this.lastStatus = statusText;
    const failuresText = `${JSON.stringify(failures, null, 2)}\n`;
    if (failuresText !== this.lastFailures && (failures.length > 0 || this.lastFailures !== '')) {
      if (await this.replace(FAILURES_PATH, failuresText)) this.lastFailures = failuresText;
    }
  }

  /**
   * Temp file, then rename. The temp goes in `.scopefs/` (write-file-atomic
   * would put it beside the target, where listings and the watcher see it).
   * Status files are informative: a failed write is retried with the next
   * update and never stops sync.
   */
  private async replace(virtualPath: string, text: string): Promise<boolean> {
    const name = virtualPath.slice(1);
    const stateDir = join(this.root!, RESERVED_SEGMENT);
    const temp = join(stateDir, `${name}.tmp`);
    try {
      await writeFile(temp, text).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        makePrivateDir(stateDir); // removed while running
        await writeFile(temp, text);
      });
      await rename(temp, join(this.root!, name));
      return true;
    } catch {
      return false;
    }
  }
}
