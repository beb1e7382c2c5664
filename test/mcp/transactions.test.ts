/** begin_changes / commit_changes / discard_changes through a real MCP client, on a real scope. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/http/tokens-grant.js';
import { scopeForPrincipal } from '../../src/http/tokens-scope.js';
import { createMcpServer } from '../../src/mcp/server.js';
import type { TransactionEvent } from '../../src/transactions/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { call } from './scenario.js';

const TX_TOOLS = ['begin_changes', 'commit_changes', 'discard_changes'];
let counter = 0;
const scopes: RunningScope[] = [];
const clients: Client[] = [];

async function newScope(idleMs?: number): Promise<RunningScope> {
  const scope = await startScope({ scopeKey: `mcp-tx-${process.pid}-${++counter}`, ...(idleMs === undefined ? {} : { transactions: { idleMs } }) });
  scopes.push(scope);
  return scope;
}

async function session(scope: Parameters<typeof createMcpServer>[0], options: { grant?: Grant; sessionTransactions?: boolean } = {}): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(scope, { version: 'test', sessionTransactions: true, ...options }).connect(serverSide);
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const reply = await call(client, name, args);
  expect(reply.isError, reply.texts.join('\n')).toBe(false);
  return reply.texts.join('\n');
}

async function fails(client: Client, name: string, args: Record<string, unknown>, message: RegExp): Promise<void> {
  const reply = await call(client, name, args);
  expect(reply.isError).toBe(true);
  expect(reply.texts.join('\n')).toMatch(message);
}

const read = (client: Client, path: string) => ok(client, 'read_file', { path, raw: true });

/** The next event of the transaction named `name`. */
function eventOf(scope: RunningScope, name: string): Promise<TransactionEvent> {
  return new Promise((resolve) => {
    const stop = scope.transactions.subscribe((event) => {
      if (event.name === name) {
        stop();
        resolve(event);
      }
    });
  });
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(scopes.splice(0).map((scope) => scope.stop()));
});

describe('MCP transaction tools', () => {
  it('changes inside are private to the session until commit_changes applies them at once', async () => {
    const scope = await newScope();
    await scope.fs.writeFile('/notes/plan.md', 'one\ntwo\n');
    const agent = await session(scope);
    const other = await session(scope);

    expect(await ok(agent, 'begin_changes', { name: 'plan-edit' })).toMatch(/^Began transaction plan-edit \(id [0-9a-f]+\)/);
    await ok(agent, 'edit_file', { path: '/notes/plan.md', old_string: 'two', new_string: 'TWO' });
    await ok(agent, 'write_file', { path: '/notes/new.md', content: 'fresh\n' });
    await ok(agent, 'memory', { command: 'create', path: '/memories/prefs.md', file_text: 'tea\n' });

    expect(await read(agent, '/notes/plan.md')).toBe('one\nTWO\n');
    expect(await ok(agent, 'list_files', { prefix: '/notes' })).toMatch(/\/notes\/new\.md/);
    expect(await scope.fs.readFile('/notes/plan.md')).toBe('one\ntwo\n');
    expect(await scope.fs.fileExists('/notes/new.md')).toBe(false);
    expect(await read(other, '/notes/plan.md')).toBe('one\ntwo\n');
    await fails(other, 'read_file', { path: '/notes/new.md' }, /ENOENT/);

    const committed = await ok(agent, 'commit_changes');
    expect(committed).toMatch(/^Committed transaction plan-edit: 3 change\(s\) applied as one step \(checkpoint plan-edit-/);
    expect(committed).toMatch(/\/notes\/plan\.md: written/);
    expect(await scope.fs.readFile('/notes/plan.md')).toBe('one\nTWO\n');
    expect(await scope.fs.readFile('/notes/new.md')).toBe('fresh\n');
    expect(await scope.fs.readFile('/memories/prefs.md')).toBe('tea\n');
    expect(scope.transactions.list()).toEqual([]);

    // Over: changes apply at once again.
    await ok(agent, 'write_file', { path: '/notes/after.md', content: 'live\n' });
    expect(await scope.fs.readFile('/notes/after.md')).toBe('live\n');
    await fails(agent, 'commit_changes', {}, /no transaction is open in this session: begin_changes starts one/);
  });

  it('discard_changes drops everything; a second begin_changes is refused while one is open', async () => {
    const scope = await newScope();
    const agent = await session(scope);
    await ok(agent, 'begin_changes', { name: 'scratch' });
    await ok(agent, 'write_file', { path: '/scratch.md', content: 'draft\n' });
    await fails(agent, 'begin_changes', {}, /already has an open transaction \(scratch, 1 changed path\(s\)\); commit_changes or discard_changes it first/);

    expect(await ok(agent, 'discard_changes')).toBe('Discarded transaction scratch: none of its 1 changed path(s) were applied.');
    expect(await scope.fs.fileExists('/scratch.md')).toBe(false);
    await fails(agent, 'read_file', { path: '/scratch.md' }, /ENOENT/);
    expect(await ok(agent, 'discard_changes')).toBe('No transaction was open; nothing to discard.');
    expect(await ok(agent, 'begin_changes')).toMatch(/^Began transaction tx-/);
  });

  it('a conflicting change made meanwhile: nothing is committed and the answer shows the three versions', async () => {
    const scope = await newScope();
    await scope.fs.writeFile('/status.md', 'status: idle\n');
    const agent = await session(scope);
    await ok(agent, 'begin_changes');
    await ok(agent, 'write_file', { path: '/status.md', content: 'status: busy\n' });
    await ok(agent, 'write_file', { path: '/log.md', content: 'went busy\n' });
    await scope.fs.writeFile('/status.md', 'status: away\n');

    await fails(agent, 'commit_changes', {}, /ECONFLICT.*nothing was committed: 1 path\(s\)[\s\S]*- \/status\.md: [\s\S]*yours: "status: busy\\n"[\s\S]*theirs \(kept\): "status: away\\n"/);
    expect(await scope.fs.readFile('/status.md')).toBe('status: away\n');
    expect(await scope.fs.fileExists('/log.md')).toBe(false);
    // The transaction is over: the next write is live.
    await ok(agent, 'write_file', { path: '/log.md', content: 'retry\n' });
    expect(await scope.fs.readFile('/log.md')).toBe('retry\n');
  });

  it('with on_conflict "copy" the rest commits and the conflicting version is kept beside the live one', async () => {
    const scope = await newScope();
    await scope.fs.writeFile('/status.md', 'status: idle\n');
    const agent = await session(scope);
    await ok(agent, 'begin_changes', { on_conflict: 'copy' });
    await ok(agent, 'write_file', { path: '/status.md', content: 'status: busy\n' });
    await ok(agent, 'write_file', { path: '/log.md', content: 'went busy\n' });
    await scope.fs.writeFile('/status.md', 'status: away\n');
    const answer = await ok(agent, 'commit_changes');
    expect(answer).toMatch(/1 path\(s\) conflicted; the live file was kept and your version saved beside it:\n\/status\.md: .*yours is at \/status\.sync-conflict-/);
    expect(await scope.fs.readFile('/log.md')).toBe('went busy\n');
    expect(await scope.fs.readFile('/status.md')).toBe('status: away\n');
  });

  it("the session's open transaction is aborted when the session closes", async () => {
    const scope = await newScope();
    const agent = await session(scope);
    await ok(agent, 'begin_changes', { name: 'left-open' });
    await ok(agent, 'write_file', { path: '/unfinished.md', content: 'half\n' });
    const ended = eventOf(scope, 'left-open');
    await agent.close();
    expect(await ended).toMatchObject({ type: 'transaction_aborted', reason: 'its MCP session ended', paths: ['/unfinished.md'] });
    expect(await scope.fs.fileExists('/unfinished.md')).toBe(false);
    expect(scope.transactions.list()).toEqual([]);
  });

  it('one aborted for idleness: the file tools say so instead of writing live, and begin_changes starts anew', async () => {
    const scope = await newScope(80);
    const agent = await session(scope);
    const ended = eventOf(scope, 'slow');
    await ok(agent, 'begin_changes', { name: 'slow' });
    expect(await ended).toMatchObject({ type: 'transaction_aborted', reason: 'unused for 80 ms' });

    await fails(agent, 'write_file', { path: '/slow.md', content: 'again\n' }, /transaction slow of this session ended \(unused for 80 ms\): nothing of it was applied. begin_changes starts a new one/);
    expect(await scope.fs.fileExists('/slow.md')).toBe(false);
    expect(await ok(agent, 'begin_changes', { name: 'again' })).toMatch(/^Began transaction again/);
    await ok(agent, 'write_file', { path: '/slow.md', content: 'kept\n' });
    await ok(agent, 'commit_changes');
    expect(await scope.fs.readFile('/slow.md')).toBe('kept\n');
  });

  it('respects grants: a read-only token does not see the tools; a limited one works inside its grant only', async () => {
    const scope = await newScope();
    const readOnly: Grant = { holder: 'token "reader"', read: ['/'], write: [], delete: false, move: false };
    const reader = await session(scopeForPrincipal(scope, { actor: 'token:reader', grant: readOnly }), { grant: readOnly });
    const names = (await reader.listTools()).tools.map((tool) => tool.name);
    for (const name of TX_TOOLS) expect(names).not.toContain(name);

    const notes: Grant = { holder: 'token "notes"', read: [], write: ['/notes'], delete: false, move: false };
    const writer = await session(scopeForPrincipal(scope, { actor: 'token:notes', grant: notes }), { grant: notes });
    expect((await writer.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(TX_TOOLS));
    await ok(writer, 'begin_changes', { name: 'bot' });
    expect(scope.transactions.list()).toMatchObject([{ name: 'bot', actor: 'token:notes' }]);
    await fails(writer, 'write_file', { path: '/secret.md', content: 'x' }, /token "notes" may not do this: writing "\/secret\.md" is outside its grant/);
    await ok(writer, 'write_file', { path: '/notes/n.md', content: 'ok\n' });
    await ok(writer, 'commit_changes');
    expect(await scope.fs.readFile('/notes/n.md')).toBe('ok\n');
    expect(await scope.fs.fileExists('/secret.md')).toBe(false);
  });

  it('are not offered by a server without sessionTransactions (stateless HTTP)', async () => {
    const scope = await newScope();
    const client = await session(scope, { sessionTransactions: false });
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of TX_TOOLS) expect(names).not.toContain(name);
  });
});
