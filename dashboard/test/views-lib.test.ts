/** The pure parts behind Conflicts, History and the viewer: line diffs, folding, highlighting. */
import { describe, expect, it } from 'vitest';
import { diffStats, sideBySide, MAX_DIFF_LINES } from '../src/lib/diff.js';
import { highlight, languageOf } from '../src/lib/highlight.js';
import { fold } from '../src/views/diff-table.js';

describe('sideBySide', () => {
  it('pairs changed lines and keeps one-sided ones, with line numbers on each side', () => {
    const rows = sideBySide('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n')!;
    expect(rows.map((row) => row.kind)).toEqual(['same', 'changed', 'same', 'same', 'added']);
    expect(rows[1]).toEqual({ kind: 'changed', left: { number: 2, text: 'b' }, right: { number: 2, text: 'B' } });
    expect(rows[4]).toEqual({ kind: 'added', right: { number: 5, text: 'e' } });
    expect(diffStats(rows)).toEqual({ removed: 1, added: 2 });
  });

  it('says nothing differs for equal texts and refuses texts too long to diff in a page', () => {
    expect(diffStats(sideBySide('x\ny', 'x\ny')!)).toEqual({ removed: 0, added: 0 });
    expect(sideBySide('l\n'.repeat(MAX_DIFF_LINES + 1), 'x')).toBeUndefined();
  });

  it('folds long unchanged runs but keeps three lines of context around a change', () => {
    const before = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const after = before.map((line, i) => (i === 15 ? 'changed' : line));
    const shown = fold(sideBySide(before.join('\n'), after.join('\n'))!);
    expect(shown.filter((row) => row === 'fold')).toHaveLength(2);
    expect(shown.filter((row) => row !== 'fold')).toHaveLength(7);
  });
});

describe('highlight', () => {
  it('knows languages by extension and leaves unknown ones plain', () => {
    expect(languageOf('/a/b.ts')).toBe('ts');
    expect(languageOf('/c.yml')).toBe('yaml');
    expect(languageOf('/notes.txt')).toBeUndefined();
    expect(highlight('hello', '/notes.txt')).toBeUndefined();
  });

  it('marks keywords, strings, numbers and comments, and keeps every character', () => {
    const source = 'const x = "a // not a comment" + 42; // note';
    const [line] = highlight(source, '/a.ts')!;
    expect(line!.map((token) => token.text).join('')).toBe(source);
    expect(line!.filter((token) => token.kind !== 'plain').map((token) => [token.kind, token.text])).toEqual([
      ['keyword', 'const'],
      ['string', '"a // not a comment"'],
      ['number', '42'],
      ['comment', '// note'],
    ]);
  });

  it('carries a block comment across lines', () => {
    const lines = highlight('a /* one\ntwo\nthree */ b', '/x.css')!;
    expect(lines.map((line) => line.map((token) => token.kind))).toEqual([['plain', 'comment'], ['comment'], ['comment', 'plain']]);
  });

  it('tells JSON keys from string values', () => {
    const [line] = highlight('{"name": "demo", "n": 1}', '/c.json')!;
    expect(line!.filter((token) => token.kind !== 'plain').map((token) => token.kind)).toEqual(['key', 'string', 'key', 'number']);
  });
});
