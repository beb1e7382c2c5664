import { ScopeFsError, isScopeFsError } from '../errors.js';
import { scopeStatus } from '../http/status.js';
import { requireSync, runControl, type SyncControl } from '../http/routes/sync.js';
import type { ScopeHandle } from '../types.js';
import { startScope } from '../../supervisors/scope/scopes.js';
import { showSyncProgress } from './progress.js';
import { directHistory } from './history-ops.js';
import type { ScopeTarget } from './target.js';

export interface DirectOptions {
  root: string;
  scope: string;
  /** Sync with this store while open; no sync without it. */
  store?: string;
  /** Show a progress bar while waiting for sync (when stdout is a terminal). */
  progress: boolean;
}

/** Opens the scope in this process (no serve is running for the root). */
export async function openDirect(options: DirectOptions): Promise<ScopeTarget> {
  // startScope takes the root's owner lock: one process per root.
  const scope = await startScope({
    scopeKey: options.scope,
    root: options.root,
    sync: options.store ? { store: options.store, app: options.scope } : undefined,
    watch: false,
  });
  return directTarget(scope, options.progress);
}

function directTarget(scope: ScopeHandle, progress: boolean): ScopeTarget {
  const { fs } = scope;
  return {
    mode: 'direct',
    history: directHistory(fs),
    list: (prefix) => fs.listEntries(prefix),
    read: async (path) => {
      const bytes = await fs.readFile(path, { encoding: 'bytes' });
      return { bytes, revision: (await fs.stat(path)).revision };
    },
    write: (path, content, ifRevision) => fs.writeFile(path, content, { ifRevision }),
    move: (from, to) => fs.moveFile(from, to),
    remove: (path) => fs.deleteFile(path),
    flush: () => fs.flushAll(),
    status: () => scopeStatus(scope),
    conflicts: async () => (await scope.sync?.conflicts()) ?? [],
    resolve: (path, resolution) => requireSync(scope.sync).resolveConflict(path, resolution),
    control: (control) => directControl(scope, control),
    settle: (timeoutMs) => settle(scope, timeoutMs, progress),
    close: () => scope.stop(),
  };
}

/** Without a serve only a resync means anything: a pause or a confirm would end with this command. */
function directControl(scope: ScopeHandle, control: SyncControl) {
  if (control !== 'resync') {
    const root = scope.root ?? '(memory)';
    throw new ScopeFsError('EINVAL', `no serve is running for ${root}; ${control} acts on a running serve (start one with: scopefs serve --root ${root})`);
  }
  return runControl(requireSync(scope.sync), control);
}

async function settle(scope: ScopeHandle, timeoutMs: number, progress: boolean): Promise<boolean> {
  if (!scope.sync) return true;
  const bar = progress ? showSyncProgress(scope.sync) : undefined;
  try {
    await scope.sync.idle({ timeoutMs });
    return true;
  } catch (err) {
    if (isScopeFsError(err, 'ETIMEDOUT')) return false;
    throw err;
  } finally {
    bar?.stop();
  }
}
