/**
 * MCP with limited tokens (a real client over Streamable HTTP): the tools a
 * grant cannot use are not listed, and calls outside the grant are refused
 * with a message naming it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore, tokensFilePath, type CreateTokenInput } from '../../src/http/tokens-store.js';
import { startTestServer, TOKEN, type TestServer } from '../http/helpers.js';
import { call, TOOL_NAMES } from './scenario.js';

let server: TestServer;
const opened: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(opened.map((client) => client.close()));
  await server.close();
});

async function clientWith(grant: Omit<CreateTokenInput, 'name'> | 'owner', name = `t${opened.length}`): Promise<Client> {
  const token = grant === 'owner' ? TOKEN : (await new TokenStore(tokensFilePath(server.root)).create({ name, ...grant })).token;
  const client = new Client({ name: 'mcp-tokens-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  opened.push(client);
  return client;
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name).sort();

describe('tools listed under a grant', () => {
  it('the owner gets every tool', async () => {
    expect(await toolNames(await clientWith('owner'))).toEqual(expect.arrayContaining(TOOL_NAMES));
  });

  it('a read-only token gets no tool that changes anything', async () => {
    const names = await toolNames(await clientWith({ read: ['/'] }, 'read-only'));
    expect(names).toEqual(expect.arrayContaining(['list_files', 'memory', 'read_file', 'sync_status']));
    for (const tool of ['write_file', 'edit_file', 'insert_lines', 'move_file', 'delete_file', 'resolve_conflict']) expect(names).not.toContain(tool);
  });

  it('no limited token gets the operator tools (sync controls, checkpoints), even one that may write everywhere', async () => {
    const owner = await toolNames(await clientWith('owner'));
    const names = await toolNames(await clientWith({ write: ['/'] }, 'writer-everywhere'));
    const operatorTools = owner.filter((name) => /^sync_(pause|resume|confirm|resync)$|checkpoint/.test(name));
    expect(operatorTools.length).toBeGreaterThan(0);
    for (const tool of operatorTools) expect(names).not.toContain(tool);
    expect(names).toContain('write_file');
  });

  it('no-delete and no-move drop delete_file and move_file; no grant on /memories drops memory', async () => {
    const names = await toolNames(await clientWith({ read: ['/docs'], write: ['/notes'], delete: false, move: false }, 'no-delete'));
    expect(names).toEqual(expect.arrayContaining(['edit_file', 'insert_lines', 'list_files', 'read_file', 'write_file']));
    for (const tool of ['delete_file', 'move_file', 'memory']) expect(names).not.toContain(tool);
  });
});

describe('calls outside the grant', () => {
  it('are refused with a message naming the grant, and change nothing', async () => {
    await server.scope.fs.writeFile('/docs/guide.md', 'guide\n');
    const client = await clientWith({ read: ['/docs'], write: ['/notes'], delete: false }, 'ci-bot');
    const edit = await call(client, 'edit_file', { path: '/docs/guide.md', old_string: 'guide', new_string: 'GUIDE' });
    expect(edit.isError).toBe(true);
    expect(edit.texts.join(' ')).toBe(
      'EACCES: token "ci-bot" may not do this: writing "/docs/guide.md" is outside its grant (read /docs; write /notes; no deletes). ' +
        'Stay inside the grant, or ask the owner for a token that covers it.',
    );
    expect(await server.scope.fs.readFile('/docs/guide.md')).toBe('guide\n');
    const move = await call(client, 'move_file', { from: '/docs/guide.md', to: '/notes/guide.md' });
    expect(move).toMatchObject({ isError: true, texts: [expect.stringContaining('moving "/docs/guide.md" is outside its grant')] });
    const read = await call(client, 'read_file', { path: '/secret.md' });
    expect(read).toMatchObject({ isError: true, texts: [expect.stringContaining('reading "/secret.md" is outside its grant')] });
    expect((await call(client, 'write_file', { path: '/notes/ok.md', content: 'fine' })).isError).toBe(false);
  });

  it('the memory tool works where the grant reaches /memories, and is refused beyond', async () => {
    const reader = await clientWith({ read: ['/memories'] }, 'memory-reader');
    const created = await call(reader, 'memory', { command: 'create', path: '/memories/n.md', file_text: 'x' });
    expect(created).toMatchObject({ isError: true, texts: [expect.stringContaining('token "memory-reader" may not do this')] });
    const writer = await clientWith({ write: ['/memories'] }, 'memory-writer');
    expect((await call(writer, 'memory', { command: 'create', path: '/memories/n.md', file_text: 'x' })).isError).toBe(false);
    expect((await call(reader, 'memory', { command: 'view', path: '/memories' })).texts.join('')).toContain('/memories/n.md');
  });
});
