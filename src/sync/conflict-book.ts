import { isScopeFsError } from '../errors.js';
import type { FileSystem } from '../types.js';
import { conflictCopyPath } from './conflict-copy.js';
import { writeFreshCopy } from './fresh-copy.js';
import type { SyncStateDb } from './state-db.js';
import { describeRule, type AppliedRule } from './strategies.js';
import type { ConflictRecord } from './types.js';

export const SNIPPET_CHARS = 500;
/** Where agents look for conflicts they can help resolve. */
export const CONFLICT_REPORT_PATH = '/application-state/sync-conflict.json';

/** What a conflict is recorded from: both sides, and where the other one came from. */
export interface ConflictInput {
  path: string;
  local: Uint8Array;
  remote: Uint8Array;
  remoteRevision: number;
  remoteInstance: string;
  at: Date;
  /** The strategy rule that left the conflict open; absent for outside edits on disk (no rule applies there). */
  rule?: AppliedRule;
}

/**
 * The open conflicts of a scope: the conflict copies beside the files, the
 * records in the state database, and the report file agents read. A conflict
 * keeps the local file in place and the remote version in the copy until it
 * is resolved.
 *
 * Conflicts are keyed by their copy, not their path: a path can hold more
 * than one (a conflicted file moved onto a path whose own conflict is still
 * open), and every copy on disk must belong to exactly one open conflict.
 */
export class ConflictBook {
  /** Open conflicts by copy path. */
  private readonly open = new Map<string, ConflictRecord>();
  /** Copy paths by conflicted path (the engine asks `has(path)` for every path it plans). */
  private readonly copiesByPath = new Map<string, Set<string>>();

  constructor(
    private readonly fs: FileSystem,
    private readonly state: SyncStateDb,
    private readonly instanceId: string,
  ) {
    for (const record of state.conflicts()) this.index(record);
  }

  has(path: string): boolean {
    return this.copiesByPath.has(path);
  }

  /** Every open conflict, by path, oldest first. */
  list(): ConflictRecord[] {
    return [...this.open.values()].sort(
      (a, b) => a.path.localeCompare(b.path) || a.detectedAt.localeCompare(b.detectedAt) || a.copyPath.localeCompare(b.copyPath),
    );
  }

  /** The paths with at least one open conflict. */
  paths(): string[] {
    return [...new Set(this.list().map((c) => c.path))];
  }

  /** The conflict whose copy lives at `copyPath`, if any. */
  byCopyPath(copyPath: string): ConflictRecord | undefined {
    return this.open.get(copyPath);
  }

  /**
   * Records a conflict: writes the remote version beside the local file (or
   * refreshes the newest copy when the path is already in conflict).
   */
  async record(input: ConflictInput): Promise<ConflictRecord> {
    const newest = this.newest(input.path);
    if (newest) {
      await this.fs.writeFile(newest.copyPath, input.remote, { origin: 'sync', source: input.remoteInstance });
      return this.adopt({ ...input, copyPath: newest.copyPath });
    }
    // A new copy never takes a name in use: the time in it has one-second resolution, and a path whose
    // conflicted file moved away (leaving its copy) can conflict again within that second.
    const nameFor = (attempt: number) => conflictCopyPath(input.path, input.at, input.remoteInstance, attempt);
    const copyPath = await writeFreshCopy(this.fs, nameFor, input.remote, { origin: 'sync', source: input.remoteInstance }, (p) => this.open.has(p));
    return this.adopt({ ...input, copyPath });
  }

  /**
   * Records a conflict whose copy is already written: an outside edit on
   * disk that the FileSystemServer could not merge kept itself beside the
   * file (remote instance `disk`, revision 0).
   */
  async adopt(input: ConflictInput & { copyPath: string }): Promise<ConflictRecord> {
    const record: ConflictRecord = {
      type: 'conflict-needs-llm',
      path: input.path,
      copyPath: input.copyPath,
      localSnippet: snippet(input.local),
      remoteSnippet: snippet(input.remote),
      remoteRevision: input.remoteRevision,
      remoteInstance: input.remoteInstance,
      detectedAt: input.at.toISOString(),
      ...(input.rule ? { strategy: input.rule.strategy, rule: describeRule(input.rule) } : {}),
    };
    this.put(record);
    await this.writeReport();
    return record;
  }

  /** The remote version kept in the path's newest conflict copy, or null when that copy is gone. */
  async remoteContent(path: string): Promise<Uint8Array | null> {
    const record = this.newest(path);
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
   * the conflict follows, it is not resolved by it. Moving onto a path with
   * its own open conflict leaves both open there.
   */
  async followMove(from: string, to: string): Promise<void> {
    const followed = [...this.open.values()].filter((r) => r.path === from || r.copyPath === from);
    if (followed.length === 0) return;
    for (const record of followed) {
      this.remove(record);
      this.put({ ...record, path: record.path === from ? to : record.path, copyPath: record.copyPath === from ? to : record.copyPath });
    }
    await this.writeReport();
  }

  /** Forgets every conflict of `path` and removes their copies (if still there). */
  async clear(path: string): Promise<void> {
    const records = this.forPath(path);
    if (records.length === 0) return;
    for (const record of records) {
      this.remove(record);
      await deleteIfPresent(this.fs, record.copyPath);
    }
    await this.writeReport();
  }

  /** Forgets the one conflict whose copy was at `copyPath` (an agent deleted that copy). */
  async clearCopy(copyPath: string): Promise<ConflictRecord | undefined> {
    const record = this.open.get(copyPath);
    if (!record) return undefined;
    this.remove(record);
    await this.writeReport();
    return record;
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

  private forPath(path: string): ConflictRecord[] {
    return [...(this.copiesByPath.get(path) ?? [])].map((copyPath) => this.open.get(copyPath)!);
  }

  /** The path's most recently detected conflict: the latest remote version seen for it. */
  private newest(path: string): ConflictRecord | undefined {
    return this.forPath(path).sort((a, b) => b.detectedAt.localeCompare(a.detectedAt) || b.remoteRevision - a.remoteRevision)[0];
  }

  private put(record: ConflictRecord): void {
    this.index(record);
    this.state.putConflict(record);
  }

  private index(record: ConflictRecord): void {
    this.open.set(record.copyPath, record);
    const copies = this.copiesByPath.get(record.path) ?? new Set();
    this.copiesByPath.set(record.path, copies.add(record.copyPath));
  }

  private remove(record: ConflictRecord): void {
    this.open.delete(record.copyPath);
    const copies = this.copiesByPath.get(record.path);
    copies?.delete(record.copyPath);
    if (copies?.size === 0) this.copiesByPath.delete(record.path);
    this.state.deleteConflict(record.copyPath);
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
