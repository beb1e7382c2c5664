/**
 * A scope's whole HTTP interface (files, events over SSE, status, conflicts,
 * MCP, readiness) as one request handler, so an app mounts it in the server
 * it already has (node:http, Express, Fastify, Hono on Node) instead of
 * opening a second port. `startHttpServer` is this handler on its own server.
 *
 * Each request is authenticated first (the owner and named tokens, or the
 * app's own callback); the routes then get the scope as that caller may use
 * it (scopeForPrincipal), so every interface enforces the same grant.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import type { ScopeHandle } from '../types.js';
import { auditedScope, auditUnauthenticated } from '../audit/scope-audit.js';
import { assertAuthAllowed, authenticateBearer, checkHost, type Authenticate, type Authenticated, type AuthConfig } from './auth.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_BUFFER_BYTES,
  DEFAULT_MAX_EVENT_STREAMS,
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_REPLAY_EVENTS,
} from './defaults.js';
import { EventLog, sseFrame, type LoggedEvent } from './event-log.js';
import { isDashboardPath, sendDashboard } from './dashboard.js';
import { HEALTHZ_PATH, sendHealthy } from './health.js';
import { checkSameOrigin } from './origin.js';
import { HttpError, describeError, sendEmpty, sendError } from './responses.js';
import { matchRoute, splitTarget, type Route } from './router.js';
import { scopeRoutes } from './routes/table.js';
import { subscribeScopeEvents } from './scope-events.js';
import { SseHub, type SseStats, type StreamView } from './sse.js';
import { eventForGrant } from './tokens-events.js';
import { scopeForPrincipal, type Principal } from './tokens-scope.js';
import { TokenStore, tokensFilePath, type TokenInfo } from './tokens-store.js';
import { ScopeFsError } from '../errors.js';

export interface ScopeHandlerOptions {
  scope: ScopeHandle;
  /** The owner token (and named tokens), no auth (loopback only), or the app's own callback. */
  auth: AuthConfig | Authenticate;
  /** Where the handler is mounted in the app's URL space, e.g. `/scopefs` (default: at the root). */
  basePath?: string;
  /** The address the server listens on; when loopback, requests naming another host are refused (DNS rebinding). */
  listenHost?: string;
  /** Version reported to MCP clients. */
  version?: string;
  /** Largest file body (PUT) and MCP request. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Largest JSON body of the other routes. Default 1 MiB. */
  maxJsonBytes?: number;
  /** SSE heartbeat interval (also how often expired tokens' streams are closed). Default 15 s. */
  heartbeatMs?: number;
  /** How many recent events a reconnecting SSE client can get back. Default 1000. */
  replayEvents?: number;
  /** SSE streams open at once; more are refused with 503. Default 512. */
  maxEventStreams?: number;
  /** Bytes waiting to be sent, summed over every SSE stream; over it the slowest streams are closed. Default 32 MiB. */
  maxEventBufferBytes?: number;
  /** Where unexpected (500) errors are reported. Default: stderr. */
  onError?: (err: unknown, req: IncomingMessage) => void;
  /** Called once per request when its response is done or its connection closed (request logs). Default: nothing. */
  onRequest?: (info: RequestInfo) => void;
}

/** One served request, for a request log: the path has no query string (tokens may travel in one). */
export interface RequestInfo {
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** Called like any node:http or Express handler; `next` (when given) gets the requests outside `basePath`. */
export interface ScopeHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** The SSE streams open now and the bytes they hold. */
  eventStreams(): SseStats;
  /** Ends the event streams of the callers `test` picks (an app's logged-out user); returns how many. */
  closeEventStreams(test: (principal: Principal) => boolean): number;
  /** Ends every event stream and stops listening to the scope and the token file. */
  close(): void;
}

const MAX_CACHED_CALLERS = 256;

/** A Principal's event view: its grant's filter, and what it was authenticated with. */
class CallerView implements StreamView {
  constructor(
    readonly principal: Principal,
    readonly token: TokenInfo | undefined,
  ) {}

  frame(event: LoggedEvent): Buffer | undefined {
    const { grant } = this.principal;
    if (!grant) return event.frame;
    const seen = eventForGrant(grant, event.data as { type: string });
    if (seen === undefined) return undefined;
    return seen === event.data ? event.frame : Buffer.from(sseFrame(event.id, seen.type, seen));
  }
}

interface Caller {
  view: CallerView;
  routes: Route[];
}

/** A handler serving `options.scope` (see ScopeHandler). */
export function createScopeHandler(options: ScopeHandlerOptions): ScopeHandler {
  assertMountable(options);
  const basePath = normalizeBase(options.basePath);
  const log = new EventLog(options.replayEvents ?? DEFAULT_REPLAY_EVENTS);
  const unsubscribe = subscribeScopeEvents(options.scope, (event) => log.append(event.type, event));
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const hub = new SseHub(log, {
    heartbeatMs,
    maxStreams: options.maxEventStreams ?? DEFAULT_MAX_EVENT_STREAMS,
    maxBufferedBytes: options.maxEventBufferBytes ?? DEFAULT_MAX_EVENT_BUFFER_BYTES,
  });
  const tokens = tokenStoreOf(options);
  const callers = new Map<string, Caller>();
  // Named tokens seen, kept apart from the bounded cache so a revocation still finds their streams.
  const tokenViews = new Set<CallerView>();
  const onError = options.onError ?? ((err: unknown) => console.error('scopefs: request failed:', err));

  const authenticate = async (req: IncomingMessage): Promise<Authenticated> => {
    if (typeof options.auth !== 'function') return authenticateBearer(req, options.auth, tokens);
    const principal = await options.auth(req);
    if (!principal) throw new HttpError(401, 'EAUTH', 'this request is not authenticated');
    return { principal };
  };

  const callerOf = ({ principal, token }: Authenticated): Caller => {
    const key = `${principal.actor}\u0000${token?.createdAt ?? ''}\u0000${JSON.stringify(principal.grant ?? null)}`;
    let caller = callers.get(key);
    if (!caller) {
      if (callers.size >= MAX_CACHED_CALLERS) callers.clear();
      const view = new CallerView(principal, token);
      const routes = scopeRoutes({
        scope: auditedScope(scopeForPrincipal(options.scope, principal), options.scope, principal.actor, !principal.grant),
        principal,
        hub,
        view,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        maxJsonBytes: options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES,
        version: options.version ?? '0.0.0',
      });
      caller = { view, routes };
      callers.set(key, caller);
      if (token) tokenViews.add(view);
    }
    return caller;
  };

  const forget = (revoked: Set<CallerView>) => {
    for (const [key, caller] of callers) if (revoked.has(caller.view)) callers.delete(key);
    for (const view of revoked) tokenViews.delete(view);
  };
  const revocations = tokens ? watchRevocations(tokens.file, () => closeRevoked(tokens, hub, tokenViews, forget), heartbeatMs) : undefined;

  const handler = ((req, res, next) => {
    void serve(req, res, next);
  }) as ScopeHandler;

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    const { rawPath: fullPath, query } = splitTarget(req.url);
    const rawPath = underBase(fullPath, basePath);
    if (rawPath === undefined && next) return next();
    if (options.onRequest) reportWhenDone(req, res, fullPath, options.onRequest);
    try {
      if (rawPath === undefined) throw new HttpError(404, 'ENOTFOUND', `no such endpoint: ${req.method} ${fullPath}`);
      if (rawPath === HEALTHZ_PATH && (req.method === 'GET' || req.method === 'HEAD')) return sendHealthy(res);
      if (options.listenHost !== undefined) checkHost(req, options.listenHost);
      if (isDashboardPath(req.method, rawPath)) {
        // The page loads its assets relative to itself, so a mounted handler's page needs the trailing slash.
        if (fullPath === basePath && basePath !== '') return sendEmpty(res, 308, { location: `${basePath}/` });
        return sendDashboard(req, res, rawPath);
      }
      checkSameOrigin(req);
      const { routes } = callerOf(await authenticate(req));
      const match = matchRoute(routes, req.method ?? 'GET', rawPath);
      if (!match) throw new HttpError(404, 'ENOTFOUND', `no such endpoint: ${req.method} ${rawPath}`);
      if ('allowed' in match) {
        throw new HttpError(405, 'EMETHOD', `${req.method} is not allowed here`, { allow: match.allowed.join(', ') });
      }
      await match.route.handler({ req, res, rawPath, query, rest: match.rest });
    } catch (err) {
      auditUnauthenticated(options.scope, req.method, fullPath, err);
      if (describeError(err).status === 500) onError(err, req);
      sendError(res, err);
    }
  }

  handler.eventStreams = () => hub.stats();
  handler.closeEventStreams = (test) => hub.closeWhere((view) => view instanceof CallerView && test(view.principal));
  handler.close = () => {
    revocations?.close();
    unsubscribe();
    hub.close();
  };
  return handler;
}

/** Calls onRequest once the response is done or its connection closed. */
export function reportWhenDone(req: IncomingMessage, res: ServerResponse, path: string, onRequest: (info: RequestInfo) => void): void {
  const started = performance.now();
  res.once('close', () => onRequest({ method: req.method ?? 'GET', path, status: res.statusCode, ms: performance.now() - started }));
}

/** No auth is for a loopback server only: a mounted handler (whose server we do not know) needs a callback or a token. */
function assertMountable({ auth, listenHost }: ScopeHandlerOptions): void {
  if (typeof auth === 'function') return;
  if (auth.mode === 'none' && listenHost === undefined) {
    throw new ScopeFsError('EINVAL', 'a mounted scope handler needs auth: your own callback (req) => principal, or { mode: "token", token }');
  }
  assertAuthAllowed(auth, listenHost ?? '0.0.0.0');
}

function tokenStoreOf(options: ScopeHandlerOptions): TokenStore | undefined {
  const { auth } = options;
  if (typeof auth === 'function' || auth.mode !== 'token' || auth.tokensFile === null) return undefined;
  const file = auth.tokensFile ?? (options.scope.root === undefined ? undefined : tokensFilePath(options.scope.root));
  return file === undefined ? undefined : new TokenStore(file);
}

/**
 * Closes the event streams of revoked (or expired) tokens: at once when the
 * token file changes (a watch on its directory), and at every heartbeat for
 * expiry or a missed change. Requests need none of this: each one checks the
 * file anew.
 */
function watchRevocations(file: string, closeRevokedStreams: () => Promise<void>, intervalMs: number): { close(): void } {
  let running: Promise<void> | undefined;
  let again = false;
  const check = () => {
    if (running) {
      again = true;
      return;
    }
    running = closeRevokedStreams()
      .catch(() => undefined) // an unreadable file refuses every named token on its next request anyway
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          check();
        }
      });
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_type, name) => {
      if (name === null || name.startsWith(basename(file))) check();
    });
    watcher.on('error', () => watcher?.close());
    watcher.unref();
  } catch {
    watcher = undefined; // no directory yet: no named tokens yet either; the timer still runs
  }
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return {
    close: () => {
      clearInterval(timer);
      watcher?.close();
    },
  };
}

async function closeRevoked(tokens: TokenStore, hub: SseHub, views: Set<CallerView>, forget: (revoked: Set<CallerView>) => void): Promise<void> {
  const revoked = new Set<CallerView>();
  for (const view of views) if (view.token && !(await tokens.stillValid(view.token))) revoked.add(view);
  if (revoked.size === 0) return;
  forget(revoked);
  hub.closeWhere((view) => view instanceof CallerView && revoked.has(view));
}

function normalizeBase(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (!basePath.startsWith('/')) throw new ScopeFsError('EINVAL', `basePath must start with "/" (e.g. "/scopefs"), not ${JSON.stringify(basePath)}`);
  return basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
}

/** The path inside the handler's base, or undefined when the request is for someone else. */
function underBase(rawPath: string, basePath: string): string | undefined {
  if (basePath === '') return rawPath;
  if (rawPath === basePath) return '/';
  return rawPath.startsWith(`${basePath}/`) ? rawPath.slice(basePath.length) : undefined;
}
