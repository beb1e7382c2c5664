import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ScopeFsError } from '../../errors.js';
import { clientToken } from '../connect.js';
import { findServe, type ServeInfo } from '../discovery.js';
import { addScopeOptions, rootOf, type ScopeCliOptions } from '../options.js';
import { nextSignal } from '../signals.js';
import { givenStoreUrl } from '../store-source.js';
import { checkStoreUrl } from '../store-url.js';
import { packageVersion } from '../version.js';

/**
 * `scopefs mcp`: an MCP server on stdin/stdout. With a serve running for the
 * root it relays to the serve's /mcp endpoint; otherwise it opens the scope
 * itself (syncing only with --store). Nothing but MCP messages goes to stdout.
 * It stops when the client closes stdin, or on SIGTERM/SIGINT.
 */
export function mcpCommand(): Command {
  return addScopeOptions(new Command('mcp'), 'sync with this store while serving (only without a running serve)')
    .description('run an MCP server over stdio (for Claude Desktop and other MCP clients)')
    .option('--create', 'create the --root directory when it does not exist')
    .action(async (options: ScopeCliOptions & { create?: boolean }) => {
      const root = rootOf(options);
      // An MCP client configured with a mistyped root would otherwise get an empty workspace and no hint.
      if (!options.create && !existsSync(root)) {
        throw new ScopeFsError('ENOENT', `no workspace at ${root}; check --root, or pass --create to start an empty one there`);
      }
      const store = await givenStoreUrl(options);
      const serve = await findServe(root);
      if (serve) await relayToServe(options, serve);
      else await serveRoot(options, root, store === undefined ? undefined : checkStoreUrl(store));
    });
}

async function relayToServe(options: ScopeCliOptions, serve: ServeInfo): Promise<void> {
  const { bridgeStdioToHttp } = await import('../../mcp/stdio.js');
  const token = await clientToken(options, serve);
  await Promise.race([bridgeStdioToHttp({ url: `${serve.url}/mcp`, token }), nextSignal()]);
}

async function serveRoot(options: ScopeCliOptions, root: string, store: string | undefined): Promise<void> {
  const [{ startScope }, { createMcpServer }, { serveStdio }] = await Promise.all([
    import('../../../supervisors/scope/scopes.js'),
    import('../../mcp/server.js'),
    import('../../mcp/stdio.js'),
  ]);
  const sync = store === undefined ? undefined : { store, app: options.scope };
  const scope = await startScope({ scopeKey: options.scope, root, sync });
  try {
    // A stdio server lives as long as its session: it may hold the session's locks and its transaction.
    const server = createMcpServer(scope, { version: packageVersion(), sessionLocks: true, sessionTransactions: true });
    await Promise.race([serveStdio(server), nextSignal()]);
  } finally {
    await scope.stop();
  }
}
