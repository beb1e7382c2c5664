import type { FileSystem } from '../types.js';
import { FAILURES_PATH, STATUS_PATH } from './sync-target.js';
import type { SyncFailure, SyncStatus } from './types.js';

/**
 * Writes `.sync-status.json` and `.sync-failures.json` into the scope
 * (through the FileSystemServer, so people and agents read them like any
 * file). Unchanged content is not rewritten.
 */
export class StatusReport {
  private lastStatus = '';
  private lastFailures = '';

  constructor(private readonly fs: FileSystem) {}

  async write(status: SyncStatus, failures: SyncFailure[]): Promise<void> {
    const statusText = `${JSON.stringify(status, null, 2)}\n`;
    if (statusText !== this.lastStatus) {
      await this.fs.writeFile(STATUS_PATH, statusText, { origin: 'sync', mimeType: 'application/json' });
      this.lastStatus = statusText;
    }
    const failuresText = `${JSON.stringify(failures, null, 2)}\n`;
    if (failuresText !== this.lastFailures && (failures.length > 0 || this.lastFailures !== '')) {
      await this.fs.writeFile(FAILURES_PATH, failuresText, { origin: 'sync', mimeType: 'application/json' });
      this.lastFailures = failuresText;
    }
  }
}
