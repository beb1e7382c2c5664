import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertAuthAllowed, type AuthConfig } from './auth.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { createScopeHandler, type ScopeHandler, type ScopeHandlerOptions } from './handler.js';
import type { SseStats } from './sse.js';

// The endpoints themselves are in routes/table.ts; this file only listens.

export interface HttpServerOptions extends Omit<ScopeHandlerOptions, 'auth' | 'basePath' | 'listenHost'> {
  auth: AuthConfig;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4480; 0 picks a free port. */
  port?: number;
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

/** Serves a scope over HTTP: files, events (SSE), status, conflicts and MCP (the scope handler on its own port). */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? DEFAULT_HOST;
  // Checked before the handler exists, so a refused configuration opens nothing.
  assertAuthAllowed(options.auth, host);
  const handler = createScopeHandler({ ...options, listenHost: host });
  const server = createServer((req, res) => handler(req, res));
  try {
    await listen(server, host, options.port ?? DEFAULT_PORT);
  } catch (err) {
    handler.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    eventStreams: () => handler.eventStreams(),
    close: () => closeServer(server, handler),
  };
}

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, closes the handler (its event streams), lets requests in flight finish (bounded), then closes. */
export async function closeServer(server: Server, handler: Pick<ScopeHandler, 'close'>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  handler.close();
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await closed;
  clearTimeout(grace);
}
