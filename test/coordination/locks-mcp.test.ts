/** lock_file / unlock_file through a real MCP client: two sessions on one scope. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/mcp/server.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { until } from '../fs/helpers.js';
import { call } from '../mcp/scenario.js';

let scope: RunningScope;
let counter = 0;
const clients: Client[] = [];

async function session(options: { sessionLocks?: boolean } = { sessionLocks: true }): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(scope, { version: 'test', ...options }).connect(serverSide);
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

beforeEach(async () => {
  scope = await startScope({ scopeKey: `locks-mcp-${process.pid}-${++counter}` });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await scope.stop();
});

describe('MCP lock tools', () => {
  it("a session's lock keeps other sessions out while its own writes go through; unlock_file frees the path", async () => {
    const a = await session();
    const b = await session();
    const locked = await call(a, 'lock_file', { path: '/shared/plan.md', ttl_seconds: 60 });
    expect(locked.isError).toBe(false);
    const token = /token: (\S+)/.exec(locked.texts.join('\n'))![1]!;

    expect((await call(a, 'write_file', { path: '/shared/plan.md', content: 'A' })).isError).toBe(false);
    const refused = await call(b, 'write_file', { path: '/shared/plan.md', content: 'B' });
    expect(refused.isError).toBe(true);
    expect(refused.texts.join('\n')).toMatch(/locked by "mcp:[0-9a-f]{8}"/);
    expect((await call(b, 'lock_file', { path: '/shared' })).isError).toBe(true);
    expect(await scope.fs.readFile('/shared/plan.md')).toBe('A');

    expect((await call(a, 'unlock_file', { token })).texts).toEqual(['Released.']);
    expect((await call(a, 'unlock_file', { token })).texts.join('')).toMatch(/no longer held/);
    expect((await call(b, 'write_file', { path: '/shared/plan.md', content: 'B' })).isError).toBe(false);
  });

  it("a session's locks are released when it ends", async () => {
    const a = await session();
    expect((await call(a, 'lock_file', { path: '/docs' })).isError).toBe(false);
    expect(await scope.locks!.locks()).toHaveLength(1);
    await a.close();
    await until(async () => (await scope.locks!.locks()).length === 0);
    await scope.fs.writeFile('/docs/a.md', 'free');
  });

  it('are not offered by a server without sessionLocks (stateless HTTP)', async () => {
    const names = (await (await session({})).listTools()).tools.map((tool) => tool.name);
    expect(names).not.toContain('lock_file');
    expect(names).toContain('write_file');
  });
});
