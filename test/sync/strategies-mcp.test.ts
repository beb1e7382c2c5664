/**
 * What an agent sees of conflict strategies through a real MCP client:
 * sync_status lists the held path with its rule, resolve_conflict's
 * description lists the choices, and resolving a held path through it
 * settles both instances.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/mcp/server.js';
import { call } from '../mcp/scenario.js';
import { SyncLab, nextEvent } from '../helpers/sync-scopes.js';

const PATH = '/state/critical.json';

describe('conflict strategies over MCP', () => {
  let lab: SyncLab;
  let client: Client;
  beforeEach(async () => {
    lab = await SyncLab.create();
  });
  afterEach(async () => {
    await client?.close();
    await lab.remove();
  });

  it('an agent sees a fail-stop hold with its rule in sync_status and resolves it with resolve_conflict', async () => {
    const sync = { conflictStrategies: [{ pattern: 'state/**', strategy: 'fail-stop' as const }] };
    const a = await lab.start('a', sync);
    const b = await lab.start('b', sync);
    await a.fs.writeFile(PATH, '{"v":0}');
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile(PATH, '{"v":"a"}');
      await b.fs.writeFile(PATH, '{"v":"b"}');
    });
    await nextEvent(a, 'path_held');

    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(a, { version: 'test' }).connect(serverSide);
    client = new Client({ name: 'test', version: '1' });
    await client.connect(clientSide);

    const { tools } = await client.listTools();
    const resolveTool = tools.find((t) => t.name === 'resolve_conflict')!;
    expect(resolveTool.description).toMatch(/"local".*"remote".*content/s);
    expect(resolveTool.description).toMatch(/fail-stop/);

    const status = JSON.parse((await call(client, 'sync_status')).texts[0]!);
    expect(status.held).toEqual([
      expect.objectContaining({ path: PATH, strategy: 'fail-stop', rule: 'options.conflictStrategies[0] "state/**" -> fail-stop', case: 'both_changed' }),
    ]);

    expect(await call(client, 'resolve_conflict', { path: PATH, keep: 'remote' })).toEqual({ isError: false, texts: [`Resolved the conflict on ${PATH}`] });
    const applied = await nextEvent(a, 'strategy_applied');
    await lab.settle(a, b);
    expect(await a.fs.readFile(PATH, { encoding: 'utf8' })).toBe('{"v":"b"}');
    expect(await b.fs.readFile(PATH, { encoding: 'utf8' })).toBe('{"v":"b"}');
    expect(await a.fs.readFile(applied.resolvedCopy, { encoding: 'utf8' })).toBe('{"v":"a"}');
    expect(JSON.parse((await call(client, 'sync_status')).texts[0]!).held).toBeUndefined();
  });
});
