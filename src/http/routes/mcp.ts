import type { IncomingMessage } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { readJson } from '../body.js';
import type { RequestContext, Route } from '../router.js';

export interface McpRouteDeps {
  /** A server for one request (its `X-Scopefs-Transaction` header, if any, puts its file tools inside that transaction). */
  createServer: (req: IncomingMessage) => McpServer;
  maxBodyBytes: number;
}

/**
 * MCP over Streamable HTTP at `/mcp`, stateless: every POST gets a fresh
 * server and transport over the same scope, so no session state lives here
 * and any number of clients can call at once. (GET and DELETE, used only by
 * stateful sessions, get 405.)
 */
export function mcpRoutes(deps: McpRouteDeps): Route[] {
  return [{ method: 'POST', path: '/mcp', handler: (ctx) => handle(deps, ctx) }];
}

async function handle(deps: McpRouteDeps, { req, res }: RequestContext): Promise<void> {
  const body = await readJson(req, deps.maxBodyBytes);
  const server = deps.createServer(req);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}
