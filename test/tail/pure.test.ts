/** The pure parts of tailing: line splitting, the resume/restart decision, records and keys, source config. */
import { describe, expect, it } from 'vitest';
import { resolveSources, splitGlob } from '../../src/tail/config.js';
import { decideRead, probeRanges, type FileCursor } from '../../src/tail/identity.js';
import { LineSplitter } from '../../src/tail/lines.js';
import { toRecord } from '../../src/tail/record.js';

describe('LineSplitter', () => {
  it('returns complete lines with their offsets; a partial line waits for its newline', () => {
    const splitter = new LineSplitter(100, 1000);
    expect(splitter.push(Buffer.from('ab\r\ncd'))).toEqual([{ offset: 100, end: 104, bytes: Buffer.from('ab'), tooLong: false, length: 2 }]);
    expect(splitter.lineOffset).toBe(104);
    expect(splitter.nextOffset).toBe(106);
    expect(splitter.push(Buffer.from('e\n\nf'))).toEqual([
      { offset: 104, end: 108, bytes: Buffer.from('cde'), tooLong: false, length: 3 },
      { offset: 108, end: 109, bytes: Buffer.from(''), tooLong: false, length: 0 },
    ]);
    expect(splitter.lineOffset).toBe(109);
  });

  it('keeps only the first bytes of a line over the limit, flagged, however it is split', () => {
    const splitter = new LineSplitter(0, 4);
    expect(splitter.push(Buffer.from('abc'))).toEqual([]);
    expect(splitter.push(Buffer.from('defgh'))).toEqual([]);
    const [line] = splitter.push(Buffer.from('ij\nok\n'));
    expect(line).toEqual({ offset: 0, end: 11, bytes: Buffer.from('abcd'), tooLong: true, length: 10 });
    expect(splitter.push(Buffer.from('abcd\r\n'))[0]).toMatchObject({ bytes: Buffer.from('abcd'), tooLong: false });
  });
});

describe('decideRead', () => {
  const cursor: FileCursor = { dev: '1', ino: '7', offset: 50, line: 3, headHash: 'h', tailHash: 't' };
  const same = { dev: '1', ino: '7', size: 80, headHash: 'h', tailHash: 't' };
  it('resumes the same file that grew (or did not)', () => {
    expect(decideRead(cursor, same)).toEqual({ kind: 'resume', offset: 50, line: 3 });
    expect(decideRead(cursor, { ...same, size: 50 })).toEqual({ kind: 'resume', offset: 50, line: 3 });
  });
  it('starts again on a new file, a new inode, a truncation or bytes rewritten before the cursor', () => {
    expect(decideRead(undefined, same)).toEqual({ kind: 'restart', reason: 'new' });
    expect(decideRead(cursor, { ...same, ino: '8' })).toEqual({ kind: 'restart', reason: 'replaced' });
    expect(decideRead(cursor, { ...same, dev: '2' })).toEqual({ kind: 'restart', reason: 'replaced' });
    expect(decideRead(cursor, { ...same, size: 49 })).toEqual({ kind: 'restart', reason: 'truncated' });
    expect(decideRead(cursor, { ...same, tailHash: 'x' })).toEqual({ kind: 'restart', reason: 'rewritten' });
    expect(decideRead(cursor, { ...same, headHash: 'x' })).toEqual({ kind: 'restart', reason: 'rewritten' });
  });
  it('probes the first and the last bytes read', () => {
    expect(probeRanges(0)).toEqual({ head: [0, 0], tail: [0, 0] });
    expect(probeRanges(30)).toEqual({ head: [0, 30], tail: [0, 30] });
    expect(probeRanges(1000)).toEqual({ head: [0, 64], tail: [936, 1000] });
  });
});

describe('toRecord', () => {
  const line = (text: string, offset = 0) => ({ offset, end: offset + text.length + 1, bytes: Buffer.from(text), tooLong: false, length: text.length });
  const source = { name: 'logs', parse: 'json' as const };
  it('parses JSON, takes a timestamp, and keys by source, file, offset and bytes', () => {
    const record = toRecord(source, '/a.jsonl', line('{"timestamp":"2026-01-01T00:00:00Z","x":1}', 10), 2, 5);
    expect(record).toMatchObject({ source: 'logs', file: '/a.jsonl', offset: 10, line: 2, at: 5, ts: Date.parse('2026-01-01T00:00:00Z'), json: { x: 1 } });
    expect(toRecord(source, '/a.jsonl', line('{"timestamp":"2026-01-01T00:00:00Z","x":1}', 10), 9, 6).key).toBe(record.key);
    expect(toRecord(source, '/a.jsonl', line('{"timestamp":"2026-01-01T00:00:00Z","x":1}', 99), 2, 5).key).not.toBe(record.key);
    expect(toRecord(source, '/b.jsonl', line('{"timestamp":"2026-01-01T00:00:00Z","x":1}', 10), 2, 5).key).not.toBe(record.key);
  });
  it('keeps an invalid line with its parse error, and a too long one with ETOOLONG', () => {
    expect(toRecord(source, '/a', line('{nope'), 1, 0)).toMatchObject({ raw: '{nope', error: { code: 'EPARSE' } });
    const long = toRecord(source, '/a', { ...line('abcd'), tooLong: true, length: 9 }, 1, 0);
    expect(long).toMatchObject({ raw: 'abcd', error: { code: 'ETOOLONG' } });
    expect(long.json).toBeUndefined();
  });
  it('with key fields, the same event has one key wherever it was read; a missing field falls back', () => {
    const keyed = { ...source, key: ['thread', 'msg.role'] };
    const a = toRecord(keyed, '/a', line('{"thread":"t","msg":{"role":"user"},"n":1}', 0), 1, 0);
    const b = toRecord(keyed, '/other', line('{"n":2,"thread":"t","msg":{"role":"user"}}', 500), 7, 0);
    expect(a.key).toBe(b.key);
    expect(toRecord(keyed, '/a', line('{"thread":"t"}', 0), 1, 0).key).not.toBe(a.key);
  });
  it('text sources keep the line as a string', () => {
    expect(toRecord({ name: 't', parse: 'text' }, '/a', line('{nope'), 1, 0)).toMatchObject({ json: '{nope' });
  });
});

describe('tail sources', () => {
  it('resolves scope globs under the root, and outside ones by their directory', () => {
    const [inside, outside, file] = resolveSources(
      [{ glob: 'logs/**/*.jsonl' }, { glob: '*.jsonl', inside: '/var/log/app', name: 'app' }, { glob: '/tmp/x/one.jsonl' }],
      '/root',
    );
    expect(inside).toMatchObject({ name: 'logs/**/*.jsonl', base: '/root/logs', inScope: true, parse: 'json' });
    expect(inside!.matches('a/b.jsonl')).toBe(true);
    expect(inside!.matches('a/b.json')).toBe(false);
    expect(outside).toMatchObject({ name: 'app', base: '/var/log/app', inScope: false });
    expect(file).toMatchObject({ base: '/tmp/x', inScope: false });
    expect(file!.matches('one.jsonl')).toBe(true);
    expect(splitGlob('logs/*.jsonl')).toEqual({ base: 'logs', pattern: '*.jsonl' });
  });
  it('refuses bad entries with a message naming them', () => {
    expect(() => resolveSources([{ glob: '' }], '/r')).toThrow(/tail\[0\] is invalid/);
    expect(() => resolveSources([{ glob: 'a', inside: 'rel' }], '/r')).toThrow(/inside must be 'scope' or an absolute directory/);
    expect(() => resolveSources([{ glob: 'a.jsonl' }], undefined)).toThrow(/needs a root directory/);
    expect(() => resolveSources([{ glob: 'a.jsonl' }, { glob: 'b', name: 'a.jsonl' }], '/r')).toThrow(/another source is named/);
    expect(() => resolveSources([{ glob: '.scopefs/x.jsonl' }], '/r')).toThrow(/\.scopefs/);
  });
  it('sync-config.json may only name files inside the scope', () => {
    expect(() => resolveSources([{ glob: '/etc/*.jsonl' }], '/r', true)).toThrow(/may only tail files inside the scope/);
    expect(() => resolveSources([{ glob: '*.jsonl', inside: '/etc' }], '/r', true)).toThrow(/may only tail files inside the scope/);
    expect(resolveSources([{ glob: '/logs/*.jsonl', inside: 'scope' }], '/r', true)[0]).toMatchObject({ base: '/r/logs', inScope: true });
  });
});
