/**
 * The status files the sync engine keeps in a root for people and agents
 * that read it directly. They are the engine's, not the scope's: written to
 * disk outside the FileSystemServer (src/sync/status-report.ts), so they are
 * never listed, counted, evented, indexed by the disk driver or taken in by
 * the disk watcher. This module is a leaf so that those layers can ask.
 */
export const STATUS_PATH = '/.sync-status.json';
export const FAILURES_PATH = '/.sync-failures.json';

const ENGINE_STATUS_FILES: ReadonlySet<string> = new Set([STATUS_PATH, FAILURES_PATH]);

/**
 * Whether a virtual path (`/.sync-status.json`) is one of the engine's status
 * files. Exact: the files live at the root under these names only, and a user
 * file that merely looks alike (`/notes/.sync-status.json`) stays the user's.
 */
export function isEngineStatusFile(virtualPath: string): boolean {
  return ENGINE_STATUS_FILES.has(virtualPath);
}
