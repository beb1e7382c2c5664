import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { call } from './scenario.js';

let scope: RunningScope | undefined;
let client: Client | undefined;

async function connect(sync: boolean): Promise<Client> {
  const key = `mcp-sync-controls-${process.pid}-${Date.now()}`;
  scope = await startScope({ scopeKey: key, sync: sync ? { store: `memory:${key}` } : undefined });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(scope, { version: 'test' }).connect(serverSide);
  client = new Client({ name: 'test', version: '1' });
  await client.connect(clientSide);
  return client;
}

afterEach(async () => {
  await client?.close();
  await scope?.stop();
});

describe('MCP sync controls', () => {
  it('pause, resync refused while paused, confirm refused with nothing held, resume, resync', async () => {
    const mcp = await connect(true);
    await scope!.sync!.idle({ timeoutMs: 10_000 });
    const paused = await call(mcp, 'sync_pause');
    expect(paused).toEqual({ isError: false, texts: [expect.stringMatching(/^Done \(pause\)\. Sync is paused;.*Paused: paused by request\./)] });
    const refused = await call(mcp, 'sync_resync');
    expect(refused.isError).toBe(true);
    expect(refused.texts[0]).toMatch(/EPAUSED.*resume first, then resync/);
    const nothing = await call(mcp, 'sync_confirm');
    expect(nothing.isError).toBe(true);
    expect(nothing.texts[0]).toMatch(/safety gate holds nothing to confirm.*resume it instead/);
    expect((await call(mcp, 'sync_resume')).texts[0]).toMatch(/^Done \(resume\)\./);
    await scope!.sync!.idle({ timeoutMs: 10_000 });
    await scope!.fs.writeFile('/a.md', 'a');
    expect((await call(mcp, 'sync_resync')).texts[0]).toMatch(/^Done \(resync\)\. Sync is live; 0 pending, 0 conflicts\.$/);
    expect((await scope!.sync!.status()).pending).toEqual([]);
  });

  it('without sync, a control says there is nothing to control', async () => {
    const mcp = await connect(false);
    const reply = await call(mcp, 'sync_pause');
    expect(reply.isError).toBe(true);
    expect(reply.texts[0]).toMatch(/sync is not enabled for this workspace/);
  });
});
