/**
 * The HTTP interface of a multi-scope server (`serve --data`): every route
 * of a scope (routes/table.ts) under `/v1/scopes/<scope>/`, and
 * `GET /v1/scopes`, the scopes the caller may see. A request names its
 * scope by its key, percent-encoded as one path segment
 * (`/v1/scopes/user%2F42/v1/files/notes.md`); the caller must be allowed
 * that scope (tenant-auth.ts), then the request goes to the scope's own
 * handler (createScopeHandler) with the caller's principal, holding the
 * scope in use until its response closes (so an open event stream keeps
 * its scope running).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ScopePool } from '../../supervisors/scope/scope-pool.js';
import { canonicalScopeKey } from '../../supervisors/scope/scope-key.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { ScopeFsError } from '../errors.js';
import { checkHost } from './auth.js';
import { createScopeHandler, reportWhenDone, type RequestInfo, type ScopeHandler, type ScopeHandlerOptions } from './handler.js';
import { isDashboardPath, sendDashboard } from './dashboard.js';
import { HEALTHZ_PATH, sendHealthy } from './health.js';
import { checkSameOrigin } from './origin.js';
import { HttpError, describeError, sendError, sendJson } from './responses.js';
import { splitTarget } from './router.js';
import { DEFAULT_HEARTBEAT_MS } from './defaults.js';
import { mayUseScope, type TenantAuthenticate, type TenantCaller } from './tenant-auth.js';
import type { Principal } from './tokens-scope.js';

export const SCOPES_PATH = '/v1/scopes';

export interface TenantHandlerOptions extends Omit<ScopeHandlerOptions, 'scope' | 'auth' | 'basePath' | 'onRequest'> {
  pool: ScopePool;
  authenticate: TenantAuthenticate;
  onRequest?: (info: RequestInfo) => void;
}

export interface TenantHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every scope's event streams and stops listening to the scopes. */
  close(): void;
}

export function createTenantHandler(options: TenantHandlerOptions): TenantHandler {
  const { pool, authenticate } = options;
  const handlers = new Map<string, { scope: RunningScope; handler: ScopeHandler }>();
  // The principal tenant-auth found, for the scope handler's auth callback.
  const principals = new WeakMap<IncomingMessage, Principal>();
  const onError = options.onError ?? ((err: unknown) => console.error('scopefs: request failed:', err));
  const dropHandler = ({ key }: { key: string }) => {
    handlers.get(key)?.handler.close();
    handlers.delete(key);
  };
  pool.on('scope_stopping', dropHandler);
  const revocations = watchCredentials(authenticate, handlers, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);

  const handlerFor = (key: string, scope: RunningScope): ScopeHandler => {
    const current = handlers.get(key);
    if (current?.scope === scope) return current.handler;
    current?.handler.close();
    const { pool: _pool, authenticate: _auth, onRequest: _onRequest, ...shared } = options;
    const handler = createScopeHandler({ ...shared, scope, auth: (req) => principals.get(req) });
    handlers.set(key, { scope, handler });
    return handler;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { rawPath, query } = splitTarget(req.url);
    if (options.onRequest) reportWhenDone(req, res, rawPath, options.onRequest);
    try {
      if (rawPath === HEALTHZ_PATH && (req.method === 'GET' || req.method === 'HEAD')) return sendHealthy(res);
      if (options.listenHost !== undefined) checkHost(req, options.listenHost);
      if (isDashboardPath(req.method, rawPath)) return sendDashboard(req, res, rawPath);
      checkSameOrigin(req);
      const caller = await authenticate(req);
      revocations.saw(caller);
      if (rawPath === SCOPES_PATH || rawPath === `${SCOPES_PATH}/`) {
        if (req.method !== 'GET') throw new HttpError(405, 'EMETHOD', `${req.method} is not allowed here`, { allow: 'GET' });
        const { limit, after } = listingPage(query);
        const visible = (await pool.listScopes()).filter((scope) => mayUseScope(caller, scope.key) && (after === undefined || scope.key > after));
        const scopes = visible.slice(0, limit);
        return sendJson(res, 200, { scopes, ...(visible.length > limit ? { next: scopes.at(-1)!.key } : {}) });
      }
      const target = scopeTarget(rawPath);
      if (!mayUseScope(caller, target.key)) {
        throw new HttpError(403, 'EACCES', `${caller.principal.actor} may not use scope ${JSON.stringify(target.key)}; its token names other scopes`);
      }
      pool.rootOf(target.key); // EINVAL for a key that cannot be a directory, before anything starts
      const lease = await pool.acquire(target.key);
      res.once('close', () => lease.release());
      principals.set(req, caller.principal);
      req.url = query.size > 0 ? `${target.rest}?${query.toString()}` : target.rest;
      handlerFor(target.key, lease.scope)(req, res);
    } catch (err) {
      if (describeError(err).status === 500) onError(err, req);
      sendError(res, err);
    }
  };

  const handler = ((req, res) => void serve(req, res)) as TenantHandler;
  handler.close = () => {
    revocations.close();
    pool.off('scope_stopping', dropHandler);
    for (const { handler: scoped } of handlers.values()) scoped.close();
    handlers.clear();
  };
  return handler;
}

/** `/v1/scopes/<segment>/<rest>` as the canonical key and the rest (at least `/`). */
export function scopeTarget(rawPath: string): { key: string; rest: string } {
  const prefix = `${SCOPES_PATH}/`;
  if (!rawPath.startsWith(prefix)) {
    throw new HttpError(404, 'ENOTFOUND', `no such endpoint: ${rawPath}; a multi-scope server serves ${SCOPES_PATH} and ${SCOPES_PATH}/<scope>/...`);
  }
  const end = rawPath.indexOf('/', prefix.length);
  const segment = end < 0 ? rawPath.slice(prefix.length) : rawPath.slice(prefix.length, end);
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ScopeFsError('EINVAL', `the scope segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
  return { key: canonicalScopeKey(decoded), rest: end < 0 ? '/' : rawPath.slice(end) };
}

/**
 * Ends the event streams of callers whose named token was revoked or expired,
 * or whose JWT expired, in every scope, checked every heartbeat (requests
 * need none of this: each is authenticated anew).
 */
function watchCredentials(
  authenticate: TenantAuthenticate,
  handlers: Map<string, { handler: ScopeHandler }>,
  intervalMs: number,
): { saw(caller: TenantCaller): void; close(): void } {
  const watched = new Map<string, TenantCaller>();
  let checking = false;
  const end = (actor: string) => {
    watched.delete(actor);
    for (const { handler } of handlers.values()) handler.closeEventStreams((principal) => principal.actor === actor);
  };
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      for (const [actor, caller] of watched) {
        if (caller.expiresAt !== undefined && caller.expiresAt <= Date.now()) end(actor);
        else if (caller.token && !(await authenticate.stillValid(caller.token).catch(() => true))) end(actor);
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return {
    saw: (caller) => {
      if (caller.token || caller.expiresAt !== undefined) watched.set(caller.principal.actor, caller);
    },
    close: () => clearInterval(timer),
  };
}

const DEFAULT_LISTING_LIMIT = 1000;
const MAX_LISTING_LIMIT = 10_000;

/** `GET /v1/scopes?limit=&after=`: at most `limit` scopes (by key), those after the key `after` (a page's `next`). */
function listingPage(query: URLSearchParams): { limit: number; after: string | undefined } {
  const given = query.get('limit');
  const limit = given === null ? DEFAULT_LISTING_LIMIT : Number(given);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LISTING_LIMIT) {
    throw new HttpError(400, 'EINVAL', `limit must be an integer from 1 to ${MAX_LISTING_LIMIT}, got ${JSON.stringify(given)}`);
  }
  return { limit, after: query.get('after') ?? undefined };
}
