import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from './in-memory-client.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { call } from './scenario.js';

let scope: RunningScope;
let client: Client;
connectInMemory('mcp-read', (s, c) => {
  scope = s;
  client = c;
});

describe('read_file', () => {
  it('numbers lines as cat -n does, and those numbers are what insert_lines takes', async () => {
    await scope.fs.writeFile('/plan.md', '# Plan\n- one\n- three\n');
    const read = await call(client, 'read_file', { path: '/plan.md' });
    expect(read).toEqual({ isError: false, texts: ['     1\t# Plan\n     2\t- one\n     3\t- three'] });
    const lineOfOne = Number(read.texts[0]!.split('\n').find((line) => line.endsWith('- one'))!.split('\t')[0]);
    expect((await call(client, 'insert_lines', { path: '/plan.md', line: lineOfOne, text: '- two' })).isError).toBe(false);
    expect(await scope.fs.readFile('/plan.md')).toBe('# Plan\n- one\n- two\n- three\n');
  });

  it('pages with numbers that continue from the offset', async () => {
    await scope.fs.writeFile('/long.txt', Array.from({ length: 12 }, (_, i) => `l${i + 1}`).join('\n'));
    expect((await call(client, 'read_file', { path: '/long.txt', offset: 10, limit: 2 })).texts).toEqual([
      '    10\tl10\n    11\tl11',
      '[lines 10-11 of 12; continue with offset=12]',
    ]);
  });

  it('a directory answers EISDIR and points to list_files, with or without a trailing slash', async () => {
    await scope.fs.writeFile('/notes/a.md', 'a');
    await scope.fs.writeFile('/notes/b.md', 'b');
    for (const path of ['/notes', '/notes/']) {
      const reply = await call(client, 'read_file', { path });
      expect(reply.isError).toBe(true);
      expect(reply.texts[0]).toMatch(/^EISDIR: "\/notes\/?" is a directory \(2 files\); list_files shows what is in it$/);
    }
  });

  it('a missing file answers ENOENT and says how to find files', async () => {
    const reply = await call(client, 'read_file', { path: '/nope.md' });
    expect(reply).toEqual({ isError: true, texts: ['ENOENT: no such file "/nope.md"; glob or list_files shows which files exist'] });
  });

  it('a binary file answers with its type and size, never mojibake', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]);
    await scope.fs.writeFile('/img/logo.png', png);
    const reply = await call(client, 'read_file', { path: '/img/logo.png' });
    expect(reply.isError).toBe(false);
    expect(reply.texts).toHaveLength(1);
    expect(reply.texts[0]).toMatch(/^\[\/img\/logo\.png is a binary file \(image\/png, 10 bytes\); read_file shows text only/);
    expect(reply.texts[0]).not.toMatch(/\uFFFD/);
  });
});

describe('delete_file', () => {
  it('a directory answers EISDIR unless recursive: true, which deletes every file in it', async () => {
    await scope.fs.writeFile('/tmp/a.md', 'a');
    await scope.fs.writeFile('/tmp/deep/b.md', 'b');
    await scope.fs.writeFile('/keep.md', 'k');
    const refused = await call(client, 'delete_file', { path: '/tmp' });
    expect(refused.isError).toBe(true);
    expect(refused.texts[0]).toMatch(/^EISDIR: .*is a directory \(2 files\); pass recursive: true/);
    expect(await scope.fs.listFiles()).toHaveLength(3);

    expect((await call(client, 'delete_file', { path: '/tmp/', recursive: true })).texts).toEqual(['Deleted /tmp (2 files)']);
    expect(await scope.fs.listFiles()).toEqual(['/keep.md']);
  });

  it('refuses the whole workspace and a missing path, saying what to do', async () => {
    await scope.fs.writeFile('/keep.md', 'k');
    expect((await call(client, 'delete_file', { path: '/', recursive: true })).texts[0]).toMatch(/EINVAL.*name a directory under \//);
    expect((await call(client, 'delete_file', { path: '/gone.md' })).texts[0]).toMatch(/ENOENT.*glob or list_files/);
    expect(await scope.fs.listFiles()).toEqual(['/keep.md']);
  });
});
