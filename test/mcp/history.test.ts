/** The history tools through a real MCP client: file_history, restore_file, checkpoint, list_checkpoints, restore_checkpoint, delete_checkpoint. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from './in-memory-client.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { call, HISTORY_TOOL_NAMES } from './scenario.js';

let scope: RunningScope;
let client: Client;
connectInMemory('mcp-history', (s, c) => {
  scope = s;
  client = c;
});

describe('MCP history tools', () => {
  it('are listed, each with a description that says when to use it', async () => {
    const tools = (await client.listTools()).tools.filter((tool) => HISTORY_TOOL_NAMES.includes(tool.name));
    expect(tools.map((tool) => tool.name).sort()).toEqual(HISTORY_TOOL_NAMES);
    for (const tool of tools) expect(tool.description!.length).toBeGreaterThan(60);
  });

  it('file_history lists versions and reads one; restore_file brings it back, also after a delete', async () => {
    await call(client, 'write_file', { path: '/notes.md', content: 'original' });
    await call(client, 'write_file', { path: '/notes.md', content: 'overwritten' });
    const listed = await call(client, 'file_history', { path: '/notes.md' });
    expect(listed.isError).toBe(false);
    const revisions = [...listed.texts.join('\n').matchAll(/revision (\d+)/g)].map((m) => Number(m[1]));
    expect(revisions).toHaveLength(2);
    expect((await call(client, 'file_history', { path: '/notes.md', revision: revisions[1] })).texts).toEqual(['original']);

    await call(client, 'delete_file', { path: '/notes.md' });
    expect((await call(client, 'file_history', { path: '/', deleted: true })).texts.join('\n')).toContain('/notes.md');
    const restored = await call(client, 'restore_file', { path: '/notes.md', revision: revisions[1] });
    expect(restored.isError).toBe(false);
    expect(await scope.fs.readFile('/notes.md')).toBe('original');

    const unknown = await call(client, 'restore_file', { path: '/notes.md', revision: 987654 });
    expect(unknown).toMatchObject({ isError: true });
    expect(unknown.texts.join(' ')).toMatch(/no revision 987654 of \/notes\.md/);
  });

  it('checkpoint, list_checkpoints, restore_checkpoint (dry run, then for real)', async () => {
    await scope.fs.writeFile('/src/a.ts', 'a1');
    expect((await call(client, 'checkpoint', { name: 'before-refactor', message: 'green tests' })).texts.join('')).toContain('before-refactor');
    await scope.fs.writeFile('/src/a.ts', 'a2');
    await scope.fs.writeFile('/src/b.ts', 'b');
    const list = JSON.parse((await call(client, 'list_checkpoints')).texts[0]!) as Array<{ name: string; message: string }>;
    expect(list).toMatchObject([{ name: 'before-refactor', message: 'green tests' }]);

    const dry = JSON.parse((await call(client, 'restore_checkpoint', { name: 'before-refactor', dryRun: true })).texts[0]!);
    expect(dry).toMatchObject({ dryRun: true, written: ['/src/a.ts'], deleted: ['/src/b.ts'] });
    expect(await scope.fs.readFile('/src/a.ts')).toBe('a2');
    await call(client, 'restore_checkpoint', { name: 'before-refactor' });
    expect(await scope.fs.listFiles()).toEqual(['/src/a.ts']);
    expect(await scope.fs.readFile('/src/a.ts')).toBe('a1');
    expect(await call(client, 'restore_checkpoint', { name: 'missing' })).toMatchObject({ isError: true });
  });

  it('delete_checkpoint drops it (the files stay); an unknown name is an error naming it', async () => {
    await scope.fs.writeFile('/src/c.ts', 'c');
    await call(client, 'checkpoint', { name: 'to-drop' });
    expect((await call(client, 'delete_checkpoint', { name: 'to-drop' })).texts.join('')).toContain('to-drop');
    expect((await scope.fs.listCheckpoints()).map((c) => c.name)).not.toContain('to-drop');
    expect(await scope.fs.readFile('/src/c.ts')).toBe('c');
    const again = await call(client, 'delete_checkpoint', { name: 'to-drop' });
    expect(again).toMatchObject({ isError: true });
    expect(again.texts.join('')).toContain('"to-drop"');
  });
});
