/**
 * Locks over HTTP (docs/coordination.md#locks):
 *
 * - `POST /v1/locks` `{ path, ttlMs, owner?, wait? }` → 201 with `{ token, fence, path, owner, expiresAt }`;
 *   423 ELOCKED (naming the holder) when an overlapping lock is held past `wait`.
 * - `PUT /v1/locks/<token>` `{ ttlMs }` renews → 200 with the grant; 412 ESTALE when the lock is gone.
 * - `DELETE /v1/locks/<token>` → 200 `{ released }` (false: it had expired or been released).
 * - `GET /v1/locks` → `{ locks: [{ path, owner, fence, expiresAt }] }` (never the tokens).
 *
 * Writes, deletes and moves present a token with the `X-Scopefs-Lock` header (routes/files.ts).
 */
import { fsErrors } from '../../errors.js';
import type { FileLocks } from '../../coordination/locks.js';
import type { ScopeHandle } from '../../types.js';
import { readJsonObject } from '../body.js';
import { HttpError, sendJson } from '../responses.js';
import type { RequestContext, Route } from '../router.js';

export interface LockRouteDeps {
  scope: ScopeHandle;
  /** Who asks: the lock's owner unless the body names one. */
  actor: string;
  maxJsonBytes: number;
}

const LOCKS = '/v1/locks';
/** How long a request may wait for a lock: beyond it a client should retry (HTTP clients and proxies time out). */
const MAX_WAIT_MS = 30_000;

export function lockRoutes(deps: LockRouteDeps): Route[] {
  return [
    { method: 'POST', path: LOCKS, handler: (ctx) => take(deps, ctx) },
    { method: 'GET', path: LOCKS, handler: async ({ res }) => sendJson(res, 200, { locks: await locksOf(deps.scope).locks() }) },
    { method: 'PUT', path: LOCKS, prefix: true, handler: (ctx) => renew(deps, ctx) },
    { method: 'DELETE', path: LOCKS, prefix: true, handler: async ({ res, rest }) => {
      sendJson(res, 200, { released: await locksOf(deps.scope).unlock(tokenOf(rest)) });
    } },
  ];
}

async function take(deps: LockRouteDeps, { req, res }: RequestContext): Promise<void> {
  const body = await readJsonObject(req, deps.maxJsonBytes);
  if (typeof body.path !== 'string') throw fsErrors.invalid('POST /v1/locks needs { "path": "/a/file-or-prefix", "ttlMs": 30000 }');
  if (typeof body.wait === 'number' && body.wait > MAX_WAIT_MS) {
    throw fsErrors.invalid(`wait is at most ${MAX_WAIT_MS} ms over HTTP; retry the request to wait longer`);
  }
  const owner = body.owner === undefined ? deps.actor : body.owner;
  const grant = await locksOf(deps.scope).lock(body.path, { ttlMs: body.ttlMs as number, owner: owner as string, wait: body.wait as number | undefined });
  sendJson(res, 201, grant);
}

async function renew(deps: LockRouteDeps, { req, res, rest }: RequestContext): Promise<void> {
  const body = await readJsonObject(req, deps.maxJsonBytes);
  sendJson(res, 200, await locksOf(deps.scope).renew(tokenOf(rest), { ttlMs: body.ttlMs as number }));
}

function locksOf(scope: ScopeHandle): FileLocks {
  if (!scope.locks) throw new HttpError(403, 'EACCES', 'this scope offers no locks to this caller');
  return scope.locks;
}

function tokenOf(rest: string): string {
  const token = rest.slice(1);
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(token)) throw fsErrors.invalid(`not a lock token: ${JSON.stringify(token.slice(0, 40))}; use the token POST /v1/locks answered`);
  return token;
}
