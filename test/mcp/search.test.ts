import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { connectInMemory } from './in-memory-client.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { globMatcher, grepFiles, matchLines } from '../../src/search/search.js';
import { call } from './scenario.js';

let scope: RunningScope;
let client: Client;
connectInMemory('mcp-search', (s, c) => {
  scope = s;
  client = c;
});

/** Writes files in order, each visibly newer than the one before. */
async function writeInOrder(files: Array<[string, string | Uint8Array]>): Promise<void> {
  for (const [path, content] of files) {
    const { modifiedAt } = await scope.fs.writeFile(path, content);
    while (Date.now() <= modifiedAt) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('glob', () => {
  it('matches ** at any depth, newest first, with a limit that says how many more', async () => {
    await writeInOrder([
      ['/notes/old.md', 'a'],
      ['/notes/deep/er/mid.md', 'b'],
      ['/notes/new.md', 'c'],
      ['/src/main.ts', 'd'],
    ]);
    expect((await call(client, 'glob', { pattern: '**/*.md' })).texts).toEqual(['/notes/new.md\n/notes/deep/er/mid.md\n/notes/old.md']);
    expect((await call(client, 'glob', { pattern: '*.md', path: '/notes' })).texts).toEqual(['/notes/new.md\n/notes/old.md']);
    expect((await call(client, 'glob', { pattern: '/src/*.{ts,js}' })).texts).toEqual(['/src/main.ts']);
    expect((await call(client, 'glob', { pattern: '**/*', limit: 2 })).texts).toEqual([
      '/src/main.ts\n/notes/new.md\n[2 more; narrow the pattern or raise limit]',
    ]);
    expect((await call(client, 'glob', { pattern: '**/*.py' })).texts[0]).toMatch(/^No files match \*\*\/\*\.py under \/; try a broader pattern/);
  });
});

describe('grep', () => {
  beforeEach(async () => {
    await writeInOrder([
      ['/notes/a.md', 'alpha\nTODO: first\nbeta\ngamma\nTODO: second\n'],
      ['/notes/b.md', 'nothing here\n'],
      ['/src/c.ts', '// todo lower\nconst x = 1;\n'],
      ['/img.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0x54, 0x4f, 0x44, 0x4f])],
    ]);
  });

  it('lists matching files newest first, skipping binary files', async () => {
    expect((await call(client, 'grep', { pattern: 'TODO', ignore_case: true })).texts).toEqual(['/src/c.ts\n/notes/a.md']);
    expect((await call(client, 'grep', { pattern: 'TODO' })).texts).toEqual(['/notes/a.md']);
  });

  it('shows lines with numbers and context, rg style, and counts', async () => {
    expect((await call(client, 'grep', { pattern: '^TODO', output: 'lines', glob: '**/*.md' })).texts).toEqual([
      '/notes/a.md:2:TODO: first\n/notes/a.md:5:TODO: second',
    ]);
    expect((await call(client, 'grep', { pattern: 'first|second', output: 'lines', context: 1 })).texts).toEqual([
      '/notes/a.md-1-alpha\n/notes/a.md:2:TODO: first\n/notes/a.md-3-beta\n/notes/a.md-4-gamma\n/notes/a.md:5:TODO: second',
    ]);
    expect((await call(client, 'grep', { pattern: 'TODO', output: 'counts', ignore_case: true })).texts).toEqual(['/src/c.ts:1\n/notes/a.md:2']);
  });

  it('stops at the limit and says there is more', async () => {
    expect((await call(client, 'grep', { pattern: 'TODO', output: 'lines', limit: 1 })).texts).toEqual([
      '/notes/a.md:2:TODO: first\n[more matches; narrow the pattern or glob, or raise limit]',
    ]);
  });

  it('at the limit, the context of the first match left out is left out too', async () => {
    await scope.fs.writeFile('/ctx.txt', 'a\nHIT 1\nb\nc\nd\ne\nHIT 2\nf\n');
    expect((await call(client, 'grep', { pattern: 'HIT', output: 'lines', context: 1, limit: 1, glob: '/ctx.txt' })).texts).toEqual([
      '/ctx.txt-1-a\n/ctx.txt:2:HIT 1\n/ctx.txt-3-b\n[more matches; narrow the pattern or glob, or raise limit]',
    ]);
  });

  it('an invalid expression or no match says what to try', async () => {
    const bad = await call(client, 'grep', { pattern: 'foo(' });
    expect(bad.isError).toBe(true);
    expect(bad.texts[0]).toMatch(/^EINVAL: "foo\(" is not a valid regular expression .*escape/);
    expect((await call(client, 'grep', { pattern: 'zebra' })).texts[0]).toMatch(/^No matches for zebra in 3 files \(1 binary files skipped\); try ignore_case/);
  });
});

describe('search module', () => {
  it('globMatcher: absolute patterns match whole paths, relative ones below the directory', () => {
    expect(globMatcher('**/*.md', '/')('/a/b/c.md')).toBe(true);
    expect(globMatcher('*.md', '/a/')('/a/b/c.md')).toBe(false);
    expect(globMatcher('/a/**', '/elsewhere/')('/a/x')).toBe(true);
    expect(globMatcher('**/.hidden', '/')('/x/.hidden')).toBe(true);
  });

  it('matchLines merges overlapping context and drops CR of CRLF lines', () => {
    expect(matchLines('a\r\nx\r\nb\r\nx\r\n', /x/u, 1)).toEqual({
      count: 2,
      lines: [
        { line: 1, text: 'a', match: false },
        { line: 2, text: 'x', match: true },
        { line: 3, text: 'b', match: false },
        { line: 4, text: 'x', match: true },
      ],
    });
  });

  it('grepFiles under a directory with no files finds nothing', async () => {
    await scope.fs.writeFile('/one.md', 'hit');
    const result = await grepFiles(scope.fs, { pattern: 'hit', under: '/missing' });
    expect(result.files).toEqual([]);
  });
});
