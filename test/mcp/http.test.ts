import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, NODE_ARGS, REPO, startServe, type ServeProcess } from '../cli/helpers.js';
import { call, exerciseAllTools, TOOL_NAMES } from './scenario.js';

let dir: string;
let serve: ServeProcess;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-mcp-http-'));
  serve = await startServe(['--root', join(dir, 'ws'), '--port', '0']);
  token = (await readFile(serve.info.tokenFile!, 'utf8')).trim();
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const httpClient = async (bearer: string | undefined): Promise<Client> => {
  const headers: Record<string, string> = bearer ? { authorization: `Bearer ${bearer}` } : {};
  const client = new Client({ name: 'scopefs-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(serve.info.mcp), { requestInit: { headers } }));
  return client;
};

describe('MCP over Streamable HTTP at /mcp on serve', () => {
  it('lists and calls every tool, error cases included', async () => {
    const client = await httpClient(token);
    try {
      await exerciseAllTools(client, { syncEnabled: true });
    } finally {
      await client.close();
    }
  }, 60_000);

  it('serves several clients at once over the same scope', async () => {
    const [first, second] = await Promise.all([httpClient(token), httpClient(token)]);
    try {
      await call(first, 'write_file', { path: '/shared.md', content: 'from first' });
      expect((await call(second, 'read_file', { path: '/shared.md', raw: true })).texts).toEqual(['from first']);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('refuses a client without the token', async () => {
    await expect(httpClient(undefined)).rejects.toThrow(/401|Unauthorized|invalid bearer/i);
    await expect(httpClient('wrong-token-wrong-token')).rejects.toThrow(/401|Unauthorized|invalid bearer/i);
  });
});

describe('scopefs mcp while a serve runs for the root', () => {
  it('relays stdio to the serve instead of opening the root twice', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, 'mcp', '--root', join(dir, 'ws')],
      cwd: REPO,
      env: childEnv(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'scopefs-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);
      expect((await call(client, 'write_file', { path: '/via-bridge.md', content: 'bridged' })).isError).toBe(false);
      expect((await call(client, 'read_file', { path: '/missing.md' })).isError).toBe(true);
    } finally {
      await client.close();
    }
    const read = await fetch(`${serve.info.url}/v1/files/via-bridge.md`, { headers: { authorization: `Bearer ${token}` } });
    expect(await read.text()).toBe('bridged');
  }, 60_000);
});
