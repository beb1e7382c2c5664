import { ScopeFsError } from '../../errors.js';
import type { ConflictResolution, SyncHandle, SyncStatus } from '../../sync/types.js';
import type { ScopeHandle } from '../../types.js';
import { readJsonObject } from '../body.js';
import { sendJson } from '../responses.js';
import type { RequestContext, Route } from '../router.js';
import { fileSyncStatus, scopeStatus } from '../status.js';

export interface SyncRouteDeps {
  scope: ScopeHandle;
  maxJsonBytes: number;
}

/** Status (full and for apps), the open conflicts, and resolving one. */
export function syncRoutes(deps: SyncRouteDeps): Route[] {
  const { scope } = deps;
  return [
    { method: 'GET', path: '/v1/status', handler: async ({ res }) => sendJson(res, 200, await scopeStatus(scope)) },
    { method: 'GET', path: '/api/file-sync/status', handler: async ({ res }) => sendJson(res, 200, await fileSyncStatus(scope)) },
    { method: 'GET', path: '/v1/conflicts', handler: async ({ res }) => sendJson(res, 200, { conflicts: await scope.sync?.conflicts() ?? [] }) },
    { method: 'POST', path: '/v1/conflicts/resolve', handler: (ctx) => resolve(deps, ctx) },
    ...controlRoutes(deps),
  ];
}

/** What an operator does to sync: `POST /v1/sync/pause|resume|confirm|resync`, each answered with the status after it. */
export const SYNC_CONTROLS = ['pause', 'resume', 'confirm', 'resync'] as const;
export type SyncControl = (typeof SYNC_CONTROLS)[number];

function controlRoutes(deps: SyncRouteDeps): Route[] {
  return SYNC_CONTROLS.map((control) => ({
    method: 'POST',
    path: `/v1/sync/${control}`,
    // EPAUSED (a resync while paused) answers 409 through the error table.
    handler: async ({ res }: RequestContext) => sendJson(res, 200, await runControl(requireSync(deps.scope.sync), control)),
  }));
}

export interface ControlOutcome {
  control: SyncControl;
  /** resync only: whether the full pass ran now (false: the store is not connected; the next pass is full). */
  ran?: boolean;
  status: SyncStatus;
}

/** Runs a control and answers with the sync status after it (shared by HTTP, MCP and the CLI's direct mode). */
export async function runControl(sync: SyncHandle, control: SyncControl): Promise<ControlOutcome> {
  if (control === 'resync') {
    const { ran } = await sync.resync();
    return { control, ran, status: await sync.status() };
  }
  await sync[control]();
  return { control, status: await sync.status() };
}

async function resolve(deps: SyncRouteDeps, { req, res }: RequestContext): Promise<void> {
  const body = await readJsonObject(req, deps.maxJsonBytes);
  const sync = requireSync(deps.scope.sync);
  const path = body.path as string;
  await sync.resolveConflict(path, resolutionOf(body));
  sendJson(res, 200, { resolved: path });
}

/** `{keep: 'local' | 'remote'}`, `{content: "text"}` or `{contentBase64: "..."}`. */
export function resolutionOf(body: Record<string, unknown>): ConflictResolution {
  const given = ['keep', 'content', 'contentBase64'].filter((key) => body[key] !== undefined);
  if (given.length !== 1) {
    throw new ScopeFsError('EINVAL', 'a resolution needs exactly one of keep ("local" or "remote"), content or contentBase64');
  }
  if (body.keep === 'local' || body.keep === 'remote') return body.keep;
  if (typeof body.content === 'string') return { content: body.content };
  if (typeof body.contentBase64 === 'string') return { content: Buffer.from(body.contentBase64, 'base64') };
  throw new ScopeFsError('EINVAL', 'keep must be "local" or "remote"; content and contentBase64 must be strings');
}

export function requireSync(sync: SyncHandle | undefined): SyncHandle {
  if (!sync) throw new ScopeFsError('EINVAL', 'sync is not enabled for this scope');
  return sync;
}
