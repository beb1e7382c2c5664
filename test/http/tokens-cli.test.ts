/**
 * `scopefs token` against a running `scopefs serve` (separate processes, as
 * an operator would use them): a created token works within its grant at
 * once, and a revoke refuses it on the next request and ends its open event
 * stream.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { childEnv, NODE_ARGS, REPO, runCli, startServe, type ServeProcess } from '../cli/helpers.js';
import { SseClient } from './sse-client.js';

let dir: string;
let root: string;
let serve: ServeProcess;
let owner: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-tokens-cli-'));
  root = join(dir, 'ws');
  serve = await startServe(['--root', root, '--port', '0', '--no-sync']);
  owner = (await readFile(serve.info.tokenFile!, 'utf8')).trim();
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const as = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${serve.info.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

describe('scopefs token with a running serve', () => {
  it('creates a token that works within its grant, lists it without the secret, and revokes it', async () => {
    const created = await runCli(['token', 'create', '--root', root, '--name', 'ci-bot', '--read', '/docs', '--write', '/notes', '--no-delete', '--expires', '30d', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token, expiresAt } = JSON.parse(created.stdout.toString()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(await readFile(join(root, '.scopefs', 'tokens.json'), 'utf8')).not.toContain(token);

    expect((await as(owner, '/v1/files/docs/a.md', { method: 'PUT', body: 'doc' })).status).toBe(200);
    expect(await (await as(token, '/v1/files/docs/a.md')).text()).toBe('doc');
    expect((await as(token, '/v1/files/docs/a.md', { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await as(token, '/v1/files/notes/n.md', { method: 'PUT', body: 'note' })).status).toBe(200);
    expect((await as(token, '/v1/files/notes/n.md', { method: 'DELETE' })).status).toBe(403);

    const listed = await runCli(['token', 'list', '--root', root]);
    expect(listed.stdout.toString()).toMatch(/^ci-bot\s+read \/docs; write \/notes; no deletes\s+expires /);
    expect(listed.stdout.toString()).not.toContain(token);

    const stream = await SseClient.connect(`${serve.info.url}/v1/events`, { token });
    const revoked = await runCli(['token', 'revoke', '--root', root, 'ci-bot']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.toString()).toBe('Revoked token "ci-bot".\n');
    expect((await as(token, '/v1/files/docs/a.md')).status).toBe(401);
    await vi.waitFor(() => expect(stream.ended).toBe(true), { timeout: 10_000, interval: 20 });
    expect((await as(owner, '/v1/files/docs/a.md')).status).toBe(200);
  }, 60_000);

  it('scopefs mcp --token relays to the serve with the named token\'s limits', async () => {
    const created = await runCli(['token', 'create', '--root', root, '--name', 'agent', '--read', '/docs', '--json']);
    const { token } = JSON.parse(created.stdout.toString()) as { token: string };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, 'mcp', '--root', root, '--token', token],
      cwd: REPO,
      env: childEnv(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'tokens-cli-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('read_file');
      expect(names).not.toContain('write_file');
      const read = await client.callTool({ name: 'read_file', arguments: { path: '/notes/n.md' } });
      expect(read.isError).toBe(true);
      expect(JSON.stringify(read.content)).toContain('token \\"agent\\" may not do this');
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses bad input with what to do (exit 1)', async () => {
    const noGrant = await runCli(['token', 'create', '--root', root, '--name', 'empty']);
    expect(noGrant.code).toBe(1);
    expect(noGrant.stderr).toContain('give --read and/or --write prefixes');
    const missing = await runCli(['token', 'revoke', '--root', root, 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('scopefs token list shows the tokens');
  }, 60_000);
});
