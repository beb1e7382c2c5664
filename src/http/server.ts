import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpServer } from '../mcp/server.js';
import type { ScopeHandle } from '../types.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_BUFFER_BYTES,
  DEFAULT_MAX_EVENT_STREAMS,
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_PORT,
  DEFAULT_REPLAY_EVENTS,
} from './defaults.js';
import { assertAuthAllowed, checkBearer, checkHost, type AuthConfig } from './auth.js';
import { EventLog } from './event-log.js';
import { checkSameOrigin } from './origin.js';
import { HttpError, describeError, sendError } from './responses.js';
import { matchRoute, splitTarget, type Route } from './router.js';
import { fileRoutes } from './routes/files.js';
import { mcpRoutes } from './routes/mcp.js';
import { syncRoutes } from './routes/sync.js';
import { subscribeScopeEvents } from './scope-events.js';
import { SseHub, type SseStats } from './sse.js';

export interface HttpServerOptions {
  scope: ScopeHandle;
  auth: AuthConfig;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4480; 0 picks a free port. */
  port?: number;
  /** Version reported to MCP clients. */
  version?: string;
  /** Largest file body (PUT) and MCP request. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Largest JSON body of the other routes. Default 1 MiB. */
  maxJsonBytes?: number;
  /** SSE heartbeat interval. Default 15 s. */
  heartbeatMs?: number;
  /** How many recent events a reconnecting SSE client can get back. Default 1000. */
  replayEvents?: number;
  /** SSE streams open at once; more are refused with 503. Default 512. */
  maxEventStreams?: number;
  /** Bytes waiting to be sent, summed over every SSE stream; over it the slowest streams are closed. Default 32 MiB. */
  maxEventBufferBytes?: number;
  /** Where unexpected (500) errors are reported. Default: stderr. */
  onError?: (err: unknown, req: IncomingMessage) => void;
}

export interface HttpServerHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The SSE streams open now and the bytes they hold. */
  eventStreams(): SseStats;
  /** Stops accepting, ends event streams, lets requests in flight finish (bounded), then closes. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5_000;

/** Serves a scope over HTTP: files, events (SSE), status, conflicts and MCP. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? DEFAULT_HOST;
  assertAuthAllowed(options.auth, host);
  const log = new EventLog(options.replayEvents ?? DEFAULT_REPLAY_EVENTS);
  const unsubscribe = subscribeScopeEvents(options.scope, (event) => log.append(event.type, event));
  const hub = new SseHub(log, {
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    maxStreams: options.maxEventStreams ?? DEFAULT_MAX_EVENT_STREAMS,
    maxBufferedBytes: options.maxEventBufferBytes ?? DEFAULT_MAX_EVENT_BUFFER_BYTES,
  });
  const routes = buildRoutes(options, hub);
  const onError = options.onError ?? ((err: unknown) => console.error('scopefs: request failed:', err));
  const server = createServer((req, res) => void handle(req, res, { routes, host, auth: options.auth, onError }));
  try {
    await listen(server, host, options.port ?? DEFAULT_PORT);
  } catch (err) {
    unsubscribe();
    hub.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    eventStreams: () => hub.stats(),
    close: () => {
      unsubscribe();
      return closeServer(server, hub);
    },
  };
}

function buildRoutes(options: HttpServerOptions, hub: SseHub): Route[] {
  const { scope } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxJsonBytes = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  const version = options.version ?? '0.0.0';
  return [
    ...fileRoutes({ fs: scope.fs, maxBodyBytes, maxJsonBytes }),
    ...syncRoutes({ scope, maxJsonBytes }),
    ...mcpRoutes({ createServer: () => createMcpServer(scope, { version }), maxBodyBytes }),
    { method: 'GET', path: '/v1/events', handler: ({ req, res }) => hub.accept(req, res) },
  ];
}

interface Dispatch {
  routes: Route[];
  host: string;
  auth: AuthConfig;
  onError: (err: unknown, req: IncomingMessage) => void;
}

async function handle(req: IncomingMessage, res: ServerResponse, dispatch: Dispatch): Promise<void> {
  try {
    checkHost(req, dispatch.host);
    checkSameOrigin(req);
    checkBearer(req, dispatch.auth);
    const { rawPath, query } = splitTarget(req.url);
    const match = matchRoute(dispatch.routes, req.method ?? 'GET', rawPath);
    if (!match) throw new HttpError(404, 'ENOTFOUND', `no such endpoint: ${req.method} ${rawPath}`);
    if ('allowed' in match) {
      throw new HttpError(405, 'EMETHOD', `${req.method} is not allowed here`, { allow: match.allowed.join(', ') });
    }
    await match.route.handler({ req, res, rawPath, query, rest: match.rest });
  } catch (err) {
    if (describeError(err).status === 500) dispatch.onError(err, req);
    sendError(res, err);
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function closeServer(server: Server, hub: SseHub): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  hub.close();
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await closed;
  clearTimeout(grace);
}
