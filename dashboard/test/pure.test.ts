/** The dashboard's pure parts: SSE parsing, hash routes, the file tree, the merge. */
import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/sse.js';
import { formatHash, parseHash } from '../src/route.js';
import { applyEvent, buildTree, kindOf, type FileEntry } from '../src/lib/tree.js';
import { threeWayMerge } from '../src/lib/merge.js';
import { mayDelete, mayMove, mayWrite } from '../src/lib/grant.js';

describe('SseParser', () => {
  it('parses events in any chunking, with ids, types, multi-line data and comments', () => {
    const stream = ': heartbeat\n\nid: 1-1\nevent: file_updated\ndata: {"a":\ndata: 1}\n\nid: 1-2\r\ndata: plain\r\n\r\n';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual([
        { id: '1-1', type: 'file_updated', data: '{"a":\n1}' },
        { id: '1-2', type: 'message', data: 'plain' },
      ]);
    }
  });

  it('keeps the last id for events without one, and ignores an event without data', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\nevent: x\n\ndata: y\n\n')).toEqual([{ id: '7', type: 'message', data: 'y' }]);
  });
});

describe('hash routes', () => {
  it('round-trip a view and an encoded path', () => {
    const hash = formatHash('files', '/notes/é to do.md');
    expect(hash).toBe('#/files/notes/%C3%A9%20to%20do.md');
    expect(parseHash(hash, 'files')).toEqual({ view: 'files', rest: 'notes/é to do.md' });
    expect(parseHash('', 'files')).toEqual({ view: 'files', rest: '' });
    expect(parseHash('#/activity', 'files')).toEqual({ view: 'activity', rest: '' });
    expect(parseHash('#/files/100%', 'files').rest).toBe('100%');
  });
});

describe('the file tree', () => {
  const files: FileEntry[] = [
    { path: '/b.txt', size: 3, revision: 1 },
    { path: '/notes/z.md', size: 10, revision: 2 },
    { path: '/notes/a.md', size: 5, revision: 4 },
    { path: '/notes/deep/x.json', size: 1, revision: 1 },
  ];
  it('nests directories first, then names, with totals', () => {
    const tree = buildTree(files);
    expect(tree.children.map((node) => node.name)).toEqual(['notes', 'b.txt']);
    const notes = tree.children[0]!;
    expect(notes.children.map((node) => node.name)).toEqual(['deep', 'a.md', 'z.md']);
    expect([notes.size, notes.count, tree.size, tree.count]).toEqual([16, 3, 19, 4]);
    expect(notes.children[1]!.file?.revision).toBe(4);
  });

  it('follows events, and asks for a new listing after a reset', () => {
    const map = new Map(files.map((file) => [file.path, file]));
    expect(applyEvent(map, 'file_updated', { path: '/c.md', meta: { path: '/c.md', size: 1, revision: 1 } })).toBe('changed');
    expect(applyEvent(map, 'file_deleted', { path: '/b.txt' })).toBe('changed');
    expect(applyEvent(map, 'file_deleted', { path: '/never.txt' })).toBe('unchanged');
    expect(applyEvent(map, 'file_moved', { from: '/c.md', to: '/d.md', meta: { path: '/d.md', size: 1, revision: 2 } })).toBe('changed');
    expect([...map.keys()].sort()).toEqual(['/d.md', '/notes/a.md', '/notes/deep/x.json', '/notes/z.md']);
    expect(applyEvent(map, 'reset', {})).toBe('reload');
    expect(applyEvent(map, 'sync_state', {})).toBe('unchanged');
  });

  it('tells text, JSON, images and binary apart', () => {
    const text = new TextEncoder().encode('hello');
    expect(kindOf('application/json', text)).toBe('json');
    expect(kindOf('text/markdown; charset=utf-8', text)).toBe('text');
    expect(kindOf('image/png', text)).toBe('image');
    expect(kindOf('application/octet-stream', text)).toBe('text');
    expect(kindOf('application/octet-stream', new Uint8Array([0, 1, 2]))).toBe('binary');
    expect(kindOf(undefined, new Uint8Array([0xff, 0xfe, 0x41]))).toBe('binary');
  });
});

describe('threeWayMerge', () => {
  it('merges edits to different lines, and marks edits to the same line', () => {
    expect(threeWayMerge('a\nb\nc\n', 'A\nb\nc\n', 'a\nb\nC\n')).toEqual({ text: 'A\nb\nC\n', conflict: false });
    const clash = threeWayMerge('a\nb\n', 'mine\nb\n', 'theirs\nb\n');
    expect(clash.conflict).toBe(true);
    expect(clash.text).toContain('<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>>');
  });
});

describe('grant checks in the browser', () => {
  const caller = { actor: 'ci-bot', owner: false, grant: { read: ['/docs'], write: ['/notes'], delete: false, move: true } };
  it('follow the server\'s prefixes', () => {
    expect(mayWrite(caller, '/notes/a.md')).toBe(true);
    expect(mayWrite(caller, '/notesx/a.md')).toBe(false);
    expect(mayWrite(caller, '/docs/a.md')).toBe(false);
    expect(mayDelete(caller, '/notes/a.md')).toBe(false);
    expect(mayMove(caller, '/notes/a.md', '/notes/b.md')).toBe(true);
    expect(mayMove(caller, '/notes/a.md', '/docs/b.md')).toBe(false);
    expect(mayDelete({ actor: 'owner', owner: true }, '/x')).toBe(true);
  });
});

describe('highlightedLines', () => {
  it('is plain without a highlighter, and falls back to plain when one fails or does not know the file', async () => {
    const { highlightedLines, setHighlighter } = await import('../src/lib/highlighter.js');
    expect(highlightedLines('a\nb\n', '/x.ts')).toEqual(['a', 'b']);
    setHighlighter((text, path) => (path.endsWith('.ts') ? text.split('\n').map((line) => `<${line}>`) : undefined));
    expect(highlightedLines('a\nb\n', '/x.ts')).toEqual(['<a>', '<b>']);
    expect(highlightedLines('a\nb\n', '/x.md')).toEqual(['a', 'b']);
    setHighlighter(() => {
      throw new Error('broken');
    });
    expect(highlightedLines('a', '/x.ts')).toEqual(['a']);
    setHighlighter(undefined);
  });
});
