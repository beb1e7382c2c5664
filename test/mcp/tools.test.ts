import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from './in-memory-client.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { call, exerciseAllTools, TOOL_NAMES } from './scenario.js';

let scope: RunningScope;
let client: Client;
connectInMemory('mcp-tools', (s, c) => {
  scope = s;
  client = c;
});

describe('MCP tools (in memory)', () => {
  it('every tool, with its error cases', async () => {
    await exerciseAllTools(client, { syncEnabled: false });
  });

  it('pages a long file and says where to continue', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
    await scope.fs.writeFile('/long.txt', lines.join('\n')); // no final newline
    expect((await call(client, 'read_file', { path: '/long.txt', limit: 10, raw: true })).texts).toEqual([
      `${lines.slice(0, 10).join('\n')}\n`,
      '[lines 1-10 of 25; continue with offset=11]',
    ]);
    expect((await call(client, 'read_file', { path: '/long.txt', offset: 21, limit: 10, raw: true })).texts).toEqual([
      lines.slice(20).join('\n'),
      '[lines 21-25 of 25]',
    ]);
    expect((await call(client, 'read_file', { path: '/long.txt', offset: 26 })).texts[0]).toMatch(/past the end/);
  });

  it('raw: true reads a whole file exactly; an empty file says so; a binary file answers with its type and size', async () => {
    await scope.fs.writeFile('/crlf.txt', 'a\r\nb\r\n');
    expect((await call(client, 'read_file', { path: '/crlf.txt', raw: true })).texts).toEqual(['a\r\nb\r\n']);
    await scope.fs.writeFile('/empty.txt', '');
    expect((await call(client, 'read_file', { path: '/empty.txt' })).texts).toEqual(['', '[/empty.txt is empty]']);
    await scope.fs.writeFile('/img.bin', new Uint8Array([0xff, 0xfe, 0x00]));
    const binary = await call(client, 'read_file', { path: '/img.bin' });
    expect(binary).toEqual({ isError: false, texts: [expect.stringMatching(/binary file \(application\/octet-stream, 3 bytes\).*GET \/v1\/files\/img\.bin/)] });
  });

  it('edit_file needs a unique match unless replace_all', async () => {
    await scope.fs.writeFile('/e.txt', 'x = 1\nx = 1\n');
    expect((await call(client, 'edit_file', { path: '/e.txt', old_string: 'x = 1', new_string: 'x = 2' })).texts[0]).toMatch(/found 2/);
    const all = await call(client, 'edit_file', { path: '/e.txt', old_string: 'x = 1', new_string: '$& $1', replace_all: true });
    expect(all.texts[0]).toMatch(/replaced 2 occurrences/);
    expect(await scope.fs.readFile('/e.txt')).toBe('$& $1\n$& $1\n');
  });

  it('insert_lines at the top and after a last line without a newline', async () => {
    await scope.fs.writeFile('/i.txt', 'b\nc');
    await call(client, 'insert_lines', { path: '/i.txt', line: 0, text: 'a' });
    await call(client, 'insert_lines', { path: '/i.txt', line: 3, text: 'd\n' });
    expect(await scope.fs.readFile('/i.txt')).toBe('a\nb\nc\nd\n');
  });

  it('a tool failing on a stopped scope is a tool error, and the server keeps answering', async () => {
    await scope.stop();
    const reply = await call(client, 'list_files');
    expect(reply.isError).toBe(true);
    expect((await client.listTools()).tools.length).toBe(TOOL_NAMES.length);
  });
});
