import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, NODE_ARGS, REPO } from '../cli/helpers.js';
import { call, exerciseAllTools } from './scenario.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-mcp-stdio-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('scopefs mcp (stdio, no serve running)', () => {
  it('lists and calls every tool; what it wrote is on disk after the client leaves', async () => {
    const root = join(dir, 'ws');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, 'mcp', '--root', root, '--create'],
      cwd: REPO,
      env: childEnv(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'scopefs-test', version: '1.0.0' });
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe('scopefs');

    await exerciseAllTools(client, { syncEnabled: false, sessionTools: true });
    // The stdio server lives as long as its session: a transaction of it, committed, is on disk.
    expect((await call(client, 'begin_changes')).isError).toBe(false);
    expect((await call(client, 'write_file', { path: '/in-tx.md', content: 'whole\n' })).isError).toBe(false);
    expect((await call(client, 'commit_changes')).isError).toBe(false);
    expect((await call(client, 'write_file', { path: '/kept.md', content: 'kept\n' })).isError).toBe(false);
    await client.close();
    expect(await readFile(join(root, 'kept.md'), 'utf8')).toBe('kept\n');
    expect(await readFile(join(root, 'in-tx.md'), 'utf8')).toBe('whole\n');
  }, 60_000);
});
