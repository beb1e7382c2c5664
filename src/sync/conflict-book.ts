import { isScopeFsError } from '../errors.js';
import type { FileSystem } from '../types.js';
import { conflictCopyPath } from './conflict-copy.js';
import type { SyncStateDb } from './state-db.js';
import type { ConflictRecord } from './types.js';

export const SNIPPET_CHARS = 500;
/** Where agents look for conflicts they can help resolve. */
export const CONFLICT_REPORT_PATH = '/application-state/sync-conflict.json';

/**
 * The open conflicts of a scope: the conflict copies beside the files, the
 * records in the state database, and the report file agents read. A conflict
 * keeps the local file in place and the remote version in the copy until it
 * is resolved.
 */
export class ConflictBook {
  private readonly open = new Map<string, ConflictRecord>();

  constructor(
    private readonly fs: FileSystem,
    private readonly state: SyncStateDb,
    private readonly instanceId: string,
  ) {
    for (const record of state.conflicts()) this.open.set(record.path, record);
  }

  has(path: string): boolean {
    return this.open.has(path);
  }

  list(): ConflictRecord[] {
    return [...this.open.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  paths(): string[] {
    return this.list().map((c) => c.path);
  }

  /** The conflict whose copy lives at `copyPath`, if any. */
  byCopyPath(copyPath: string): ConflictRecord | undefined {
    for (const record of this.open.values()) if (record.copyPath === copyPath) return record;
    return undefined;
  }

  /**
   * Records a conflict: writes the remote version beside the local file (or
   * refreshes the existing copy when the remote moved on again).
   */
  async record(input: {
    path: string;
    local: Uint8Array;
    remote: Uint8Array;
    remoteRevision: number;
    remoteInstance: string;
    at: Date;
  }): Promise<ConflictRecord> {
    const existing = this.open.get(input.path);
    const copyPath = existing?.copyPath ?? conflictCopyPath(input.path, input.at, this.instanceId);
    await this.fs.writeFile(copyPath, input.remote, { origin: 'sync', source: input.remoteInstance });
    const record: ConflictRecord = {
      type: 'conflict-needs-llm',
      path: input.path,
      copyPath,
      localSnippet: snippet(input.local),
      remoteSnippet: snippet(input.remote),
      remoteRevision: input.remoteRevision,
      remoteInstance: input.remoteInstance,
      detectedAt: input.at.toISOString(),
    };
    this.state.putConflict(record);
    this.open.set(input.path, record);
    await this.writeReport();
    return record;
  }

  /** The remote version kept in the conflict copy, or null when the copy is gone. */
  async remoteContent(path: string): Promise<Uint8Array | null> {
    const record = this.open.get(path);
    if (!record) return null;
    try {
      return await this.fs.readFile(record.copyPath, { encoding: 'bytes' });
    } catch (err) {
      if (isScopeFsError(err, 'ENOENT')) return null;
      throw err;
    }
  }

  /**
   * A move of a conflicted file or of its copy (a directory move takes both):
   * the conflict follows, it is not resolved by it.
   */
  async followMove(from: string, to: string): Promise<void> {
    let changed = false;
    const moved = this.open.get(from);
    if (moved) {
      this.open.delete(from);
      this.state.deleteConflict(from);
      this.open.set(to, { ...moved, path: to });
      changed = true;
    }
    for (const [path, record] of this.open) {
      if (record.copyPath === from) this.open.set(path, { ...record, copyPath: to });
      changed ||= record.copyPath === from;
    }
    if (!changed) return;
    for (const record of this.open.values()) this.state.putConflict(record);
    await this.writeReport();
  }

  /** Forgets the conflict and removes its copy (if still there). */
  async clear(path: string, options: { removeCopy: boolean }): Promise<void> {
    const record = this.open.get(path);
    if (!record) return;
    this.open.delete(path);
    this.state.deleteConflict(path);
    if (options.removeCopy) await deleteIfPresent(this.fs, record.copyPath);
    await this.writeReport();
  }

  /** Rewrites application-state/sync-conflict.json (removed when nothing is open). */
  async writeReport(): Promise<void> {
    const conflicts = this.list();
    if (conflicts.length === 0) {
      await deleteIfPresent(this.fs, CONFLICT_REPORT_PATH);
      return;
    }
    const body = `${JSON.stringify(conflicts, null, 2)}\n`;
    await this.fs.writeFile(CONFLICT_REPORT_PATH, body, { origin: 'sync', mimeType: 'application/json' });
  }
}

function snippet(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, SNIPPET_CHARS * 4)).toString(
    'utf8',
  );
  return [...text].slice(0, SNIPPET_CHARS).join('');
}

async function deleteIfPresent(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.deleteFile(path, { origin: 'sync' });
  } catch (err) {
    if (!isScopeFsError(err, 'ENOENT')) throw err;
  }
}
