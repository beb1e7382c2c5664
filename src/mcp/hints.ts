/**
 * What an agent should do after a failed tool call. A tool error carries its
 * typed message plus one hint per error code, so a model that hits ENOENT
 * is told to look for the file instead of guessing again.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ScopeFsError, errorMessage, isScopeFsError } from '../errors.js';
import { runTool } from './result.js';

const HINTS: Partial<Record<string, string>> = {
  ENOENT: 'glob or list_files shows which files exist',
  EEXIST: 'choose another path, or delete_file the existing one first',
  ESTALE: 'the file changed meanwhile: read_file it again, then retry',
  EROFS: 'that directory is read-only; write somewhere else',
  EFBIG: 'split the content into smaller files',
  ELOCKED: 'someone else holds it; retry in a moment',
  ETIMEDOUT: 'the workspace is busy; retry in a moment',
  ESTOPPED: 'the workspace is restarting or stopped; retry in a moment',
  EIO: 'the write is kept and retried; check sync_status',
  ECONFLICT: 'sync_status lists the conflict; resolve_conflict settles it',
  EPAUSED: 'sync is paused; sync_status says why',
};

/** An error's message with what to do next, unless the message already says it. */
export function withHint(err: unknown): Error {
  if (!isScopeFsError(err)) return err instanceof Error ? err : new Error(errorMessage(err));
  const hint = HINTS[err.code];
  if (!hint || err.message.includes(hint)) return err;
  const message = err.message.replace(/^[A-Z]+: /, '');
  return new ScopeFsError(err.code, `${message}; ${hint}`, { cause: err });
}

/** runTool, with what to do next added to every error (see withHint). */
export function runWithHints(work: () => Promise<string | string[]>): Promise<CallToolResult> {
  return runTool(() => work().catch((err: unknown) => Promise.reject(withHint(err))));
}

/**
 * EISDIR: a directory where a file was expected. The FileSystem has no
 * directory entries, so the tools raise it when a path is the prefix of
 * existing files.
 */
export function isDirectoryError(path: string, files: number, next: string): ScopeFsError {
  const count = files === 1 ? '1 file' : `${files} files`;
  return new ScopeFsError('EISDIR', `${JSON.stringify(path)} is a directory (${count}); ${next}`, { path });
}
