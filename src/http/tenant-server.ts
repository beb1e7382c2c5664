import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScopePool, type ScopePoolOptions } from '../../supervisors/scope/scope-pool.js';
import { assertAuthAllowed } from './auth.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { closeServer, listen } from './server.js';
import { tenantAuthenticator, type TenantAuthConfig } from './tenant-auth.js';
import { createTenantHandler, type TenantHandlerOptions } from './tenant-handler.js';

export interface TenantServerOptions extends Omit<TenantHandlerOptions, 'pool' | 'authenticate' | 'listenHost'>, TenantAuthConfig {
  pool: ScopePoolOptions;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4480; 0 picks a free port. */
  port?: number;
}

export interface TenantServerHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pool: ScopePool;
  /** Stops accepting, then stops every scope (flushed and pushed). */
  close(): Promise<void>;
}

/** Many scopes on one port (`serve --data`): see tenant-handler.ts for the routes, scope-pool.ts for their lifecycle. */
export async function startTenantServer(options: TenantServerOptions): Promise<TenantServerHandle> {
  const host = options.host ?? DEFAULT_HOST;
  assertAuthAllowed(options.auth, host);
  const authenticate = tenantAuthenticator(options);
  const { pool: poolOptions, auth: _auth, jwt: _jwt, host: _host, port: _port, ...handlerOptions } = options;
  const pool = new ScopePool(poolOptions);
  const handler = createTenantHandler({ ...handlerOptions, pool, authenticate, listenHost: host });
  const server = createServer((req, res) => handler(req, res));
  try {
    await listen(server, host, options.port ?? DEFAULT_PORT);
  } catch (err) {
    handler.close();
    await pool.stop();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    pool,
    close: async () => {
      await closeServer(server, handler);
      await pool.stop();
    },
  };
}
