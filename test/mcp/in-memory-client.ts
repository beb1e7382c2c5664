import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach } from 'vitest';
import { createMcpServer } from '../../src/mcp/server.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

let counter = 0;

/**
 * Before each test of the file: a fresh memory-only scope, and a real MCP
 * client connected to its server in memory, handed to `use`; after it, both
 * closed.
 */
export function connectInMemory(name: string, use: (scope: RunningScope, client: Client) => void): void {
  let scope: RunningScope;
  let client: Client;
  beforeEach(async () => {
    scope = await startScope({ scopeKey: `${name}-${process.pid}-${++counter}` });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(scope, { version: 'test' }).connect(serverSide);
    client = new Client({ name: 'test', version: '1' });
    await client.connect(clientSide);
    use(scope, client);
  });
  afterEach(async () => {
    await client.close();
    await scope.stop();
  });
}
