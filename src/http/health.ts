/**
 * Liveness and readiness. `GET /healthz` needs no token and tells nothing but
 * that the process answers. `GET /readyz` (any valid token) says, per part,
 * what is not ready: the filesystem actor, the sync state, the store.
 */
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';
import type { ScopeHandle } from '../types.js';
import { sendJson } from './responses.js';
import type { Route } from './router.js';
import { syncStatus } from './status.js';

export const HEALTHZ_PATH = '/healthz';

const FS_PROBE_MS = 2_000;

export interface ReadinessCheck {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: { fs: ReadinessCheck; sync: ReadinessCheck & { state?: string }; store: ReadinessCheck };
}

export function sendHealthy(res: ServerResponse): void {
  sendJson(res, 200, { ok: true });
}

/** `GET /readyz`: 200 when every part is ready, else 503; the body says which part is not and why. */
export function readyRoute(scope: Pick<ScopeHandle, 'fs' | 'sync'>): Route {
  return {
    method: 'GET',
    path: '/readyz',
    handler: async ({ res }) => {
      const readiness = await readinessOf(scope);
      sendJson(res, readiness.ready ? 200 : 503, readiness);
    },
  };
}

export async function readinessOf(scope: Pick<ScopeHandle, 'fs' | 'sync'>): Promise<Readiness> {
  const [fs, syncParts] = await Promise.all([fsCheck(scope), syncChecks(scope)]);
  const checks = { fs, ...syncParts };
  return { ready: fs.ready && checks.sync.ready && checks.store.ready, checks };
}

async function fsCheck(scope: Pick<ScopeHandle, 'fs'>): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the filesystem did not answer within ${FS_PROBE_MS} ms`)), FS_PROBE_MS);
  });
  try {
    await Promise.race([scope.fs.stats(), timeout]);
    return { ready: true };
  } catch (err) {
    return { ready: false, reason: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

async function syncChecks(scope: Pick<ScopeHandle, 'sync'>): Promise<{ sync: ReadinessCheck & { state?: string }; store: ReadinessCheck }> {
  try {
    // syncStatus redacts secrets a driver's error may quote.
    const status = await syncStatus(scope);
    if (!status.enabled) return { sync: { ready: true, state: 'disabled' }, store: { ready: true } };
    const store: ReadinessCheck = status.connected
      ? { ready: true }
      : status.state === 'paused'
        ? { ready: false, reason: 'not connected while sync is paused' }
        : { ready: false, reason: `the store is not connected (sync is ${status.state})${'error' in status && status.error ? `: ${status.error}` : ''}` };
    if (status.state === 'live') return { sync: { ready: true, state: status.state }, store };
    const paused = status.state === 'paused' && 'pausedReason' in status ? status.pausedReason : undefined;
    const why = status.state === 'paused' ? `sync is paused${paused ? `: ${paused}` : ''}` : `sync is ${status.state}, not live yet`;
    return { sync: { ready: false, state: status.state, reason: why }, store };
  } catch (err) {
    const reason = `the sync actor did not answer: ${errorMessage(err)}`;
    return { sync: { ready: false, reason }, store: { ready: false, reason: 'unknown while sync does not answer' } };
  }
}
