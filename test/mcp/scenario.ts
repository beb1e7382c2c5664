/**
 * One pass over every scopefs MCP tool, success and error cases, through any
 * transport. Shared by the stdio, Streamable HTTP and in-memory suites.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

/** The history tools (src/mcp/history-tools.ts; exercised in test/mcp/history.test.ts). */
export const HISTORY_TOOL_NAMES = ['checkpoint', 'delete_checkpoint', 'file_history', 'list_checkpoints', 'restore_checkpoint', 'restore_file'];

export const TOOL_NAMES = [
  'delete_file', 'edit_file', 'glob', 'grep', 'insert_lines', 'list_files', 'memory',
  'move_file', 'read_file', 'resolve_conflict', 'sync_confirm', 'sync_pause', 'sync_resume', 'sync_resync', 'sync_status', 'write_file',
  ...HISTORY_TOOL_NAMES,
].sort();

/** The tools of a server that lives as long as its session (stdio): locks and a transaction released with it. */
export const SESSION_TOOL_NAMES = ['begin_changes', 'commit_changes', 'discard_changes', 'lock_file', 'unlock_file'];

export interface ToolReply {
  isError: boolean;
  texts: string[];
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolReply> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text?: string }>;
  return { isError: result.isError === true, texts: content.map((block) => block.text ?? '') };
}

async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string[]> {
  const reply = await call(client, name, args);
  expect(reply.isError, `${name} failed: ${reply.texts.join(' ')}`).toBe(false);
  return reply.texts;
}

async function fails(client: Client, name: string, args: Record<string, unknown>, message: RegExp): Promise<void> {
  const reply = await call(client, name, args);
  expect(reply.isError, `${name} should have failed`).toBe(true);
  expect(reply.texts.join(' ')).toMatch(message);
}

export async function exerciseAllTools(client: Client, options: { syncEnabled: boolean; sessionTools?: boolean }): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(options.sessionTools ? [...TOOL_NAMES, ...SESSION_TOOL_NAMES].sort() : TOOL_NAMES);
  for (const tool of tools) expect(tool.inputSchema.type).toBe('object');

  expect((await ok(client, 'write_file', { path: '/notes/a.md', content: 'one\ntwo\nthree\n' }))[0]).toMatch(/^Wrote 14 bytes to \/notes\/a\.md/);
  await fails(client, 'write_file', { path: 'relative.md', content: 'x' }, /EINVAL.*absolute/);

  expect(await ok(client, 'read_file', { path: '/notes/a.md', offset: 2, limit: 1 })).toEqual(['     2\ttwo', '[lines 2-2 of 3; continue with offset=3]']);
  await fails(client, 'read_file', { path: '/notes/missing.md' }, /ENOENT/);
  await fails(client, 'read_file', { path: '/notes' }, /EISDIR.*list_files/);
  expect(await ok(client, 'glob', { pattern: '**/*.md' })).toEqual(['/notes/a.md']);
  expect(await ok(client, 'grep', { pattern: '^tw', output: 'lines' })).toEqual(['/notes/a.md:2:two']);
  await fails(client, 'grep', { pattern: '(' }, /EINVAL.*not a valid regular expression/);
  await fails(client, 'read_file', { path: '/notes/a.md', offset: 0 }, /offset/i);

  await ok(client, 'edit_file', { path: '/notes/a.md', old_string: 'two', new_string: 'TWO' });
  await fails(client, 'edit_file', { path: '/notes/a.md', old_string: 'zzz', new_string: 'y' }, /found 0/);

  await ok(client, 'insert_lines', { path: '/notes/a.md', line: 1, text: 'inserted' });
  expect(await ok(client, 'read_file', { path: '/notes/a.md', raw: true })).toEqual(['one\ninserted\nTWO\nthree\n']);
  await fails(client, 'insert_lines', { path: '/notes/a.md', line: 99, text: 'x' }, /between 0 and 4/);

  expect((await ok(client, 'list_files', { prefix: '/notes' }))[0]).toBe('/notes/a.md (23 bytes)');
  await fails(client, 'list_files', { prefix: '/notes/../..' }, /EINVAL/);

  expect((await ok(client, 'move_file', { from: '/notes/a.md', to: '/notes/b.md' }))[0]).toBe('Moved /notes/a.md -> /notes/b.md');
  await fails(client, 'move_file', { from: '/notes/none.md', to: '/notes/c.md' }, /ENOENT/);

  await ok(client, 'delete_file', { path: '/notes/b.md' });
  await fails(client, 'delete_file', { path: '/notes/b.md' }, /ENOENT/);

  const status = (await ok(client, 'sync_status'))[0]!;
  if (options.syncEnabled) expect(JSON.parse(status)).toMatchObject({ enabled: true, conflicts: [] });
  else expect(status).toMatch(/not enabled/);
  await fails(client, 'resolve_conflict', { path: '/notes/b.md', keep: 'local' }, options.syncEnabled ? /no open conflict/ : /not enabled/);
  await fails(client, 'resolve_conflict', { path: '/notes/b.md', keep: 'theirs' }, /keep|invalid/i);

  await exerciseMemory(client);
  // Still serving after all those errors.
  expect(await ok(client, 'list_files', { prefix: '/notes' })).toEqual(['No files under /notes/']);
}

async function exerciseMemory(client: Client): Promise<void> {
  await ok(client, 'memory', { command: 'create', path: '/memories/progress.md', file_text: 'step 1 done\nstep 2 todo\n' });
  expect((await ok(client, 'memory', { command: 'view', path: '/memories' }))[0]).toMatch(/24\t\/memories\/progress\.md/);
  expect(await ok(client, 'memory', { command: 'view', path: '/memories/progress.md' })).toEqual(['     1\tstep 1 done\n     2\tstep 2 todo']);
  await ok(client, 'memory', { command: 'str_replace', path: '/memories/progress.md', old_str: 'todo', new_str: 'done' });
  await ok(client, 'memory', { command: 'insert', path: '/memories/progress.md', insert_line: 2, insert_text: 'step 3 todo' });
  expect(await ok(client, 'memory', { command: 'view', path: '/memories/progress.md', view_range: [2, 3] })).toEqual([
    '     2\tstep 2 done\n     3\tstep 3 todo',
  ]);
  await ok(client, 'memory', { command: 'rename', old_path: '/memories/progress.md', new_path: '/memories/archive/progress.md' });
  await fails(client, 'memory', { command: 'view', path: '/memories/progress.md' }, /ENOENT/);
  await fails(client, 'memory', { command: 'create', path: '/notes/escape.md', file_text: 'x' }, /under \/memories/);
  await fails(client, 'memory', { command: 'create', path: '/memories/../etc/x', file_text: 'x' }, /EINVAL/);
  await fails(client, 'memory', { command: 'str_replace', path: '/memories/archive/progress.md', old_str: 'step' }, /needs new_str/);
  await ok(client, 'memory', { command: 'delete', path: '/memories/archive' });
  expect(await ok(client, 'memory', { command: 'view', path: '/memories/' })).toEqual(['Files in /memories:\n(empty)']);
  await fails(client, 'memory', { command: 'delete', path: '/memories' }, /cannot be deleted/);
}
