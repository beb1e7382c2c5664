import { createMcpServer } from '../../mcp/server.js';
import type { ScopeHandle } from '../../types.js';
import { readyRoute } from '../health.js';
import type { Route } from '../router.js';
import type { SseHub, StreamView } from '../sse.js';
import type { Principal } from '../tokens-scope.js';
import { auditRoutes } from './audit.js';
import { fileRoutes } from './files.js';
import { lockRoutes } from './locks.js';
import { historyRoutes } from './history.js';
import { mcpRoutes } from './mcp.js';
import { syncRoutes } from './sync.js';
import { tailRoutes } from './tail.js';
import { requestFs, transactionRoutes } from './transactions.js';
import { webhookRoutes } from './webhooks.js';
import { whoAmIRoutes } from './whoami.js';

export interface RouteTableDeps {
  /** The scope as the caller may use it (scopeForPrincipal): its grant is enforced, its actor recorded. */
  scope: ScopeHandle;
  principal: Principal;
  hub: SseHub;
  /** What the caller's event stream may see (undefined: everything). */
  view: StreamView | undefined;
  maxBodyBytes: number;
  maxJsonBytes: number;
  version: string;
}

/** Every endpoint of a scope, for one caller. A new route is one line here. */
export function scopeRoutes(deps: RouteTableDeps): Route[] {
  const { scope, principal, hub, view, maxBodyBytes, maxJsonBytes, version } = deps;
  return [
    ...fileRoutes({ fs: scope.fs, transactions: scope.transactions, maxBodyBytes, maxJsonBytes }),
    ...historyRoutes({ fs: scope.fs, transactions: scope.transactions, maxJsonBytes }),
    ...syncRoutes({ scope, maxJsonBytes }),
    ...mcpRoutes({
      createServer: (req) => createMcpServer({ ...scope, fs: requestFs(scope.fs, scope.transactions, req.headers) }, { version, grant: principal.grant }),
      maxBodyBytes,
    }),
    { method: 'GET', path: '/v1/events', handler: ({ req, res }) => hub.accept(req, res, view) },
    readyRoute(scope),
    ...whoAmIRoutes(principal),
    ...auditRoutes(scope),
    ...lockRoutes({ scope, actor: principal.actor, maxJsonBytes }),
    ...tailRoutes({ scope, maxJsonBytes }),
    ...webhookRoutes({ scope, maxJsonBytes }),
    ...transactionRoutes({ scope, actor: principal.actor, maxJsonBytes }),
  ];
}
