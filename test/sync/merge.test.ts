import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeContent, mergeKindFor, type MergeResult } from '../../src/sync/merge/index.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const text = (content: Uint8Array) => Buffer.from(content).toString('utf8');

function merge(path: string, base: string | null, local: string, remote: string): MergeResult {
  return mergeContent({ path, base: base === null ? null : bytes(base), local: bytes(local), remote: bytes(remote) });
}

function mergedText(result: MergeResult): string {
  if (result.status !== 'merged') throw new Error(`expected a merge, got a conflict: ${result.reason}`);
  return text(result.content);
}

function conflictReason(result: MergeResult): string {
  if (result.status !== 'conflict') throw new Error(`expected a conflict, got ${JSON.stringify(text(result.content))}`);
  return result.reason;
}

describe('mergeKindFor', () => {
  it.each([
    ['/a/settings.json', 'json'],
    ['/a/SETTINGS.JSON', 'json'],
    ['/log/events.jsonl', 'jsonl'],
    ['/log/events.ndjson', 'jsonl'],
    ['/notes/a.md', 'text'],
    ['/Makefile', 'text'],
  ] as const)('%s is %s', (path, kind) => {
    expect(mergeKindFor(path, bytes('hello\n'))).toBe(kind);
  });

  it('treats content with NUL bytes or invalid UTF-8 as bytes', () => {
    expect(mergeKindFor('/a.txt', bytes('ok'), Uint8Array.of(104, 0, 105))).toBe('bytes');
    expect(mergeKindFor('/a.txt', Uint8Array.of(0xff, 0xfe, 0x41))).toBe('bytes');
    expect(mergeKindFor('/a.txt')).toBe('text');
  });
});

describe('mergeContent: trivial merges and refusals', () => {
  it('takes identical sides as they are, even without a base and for bytes', () => {
    const blob = Uint8Array.of(0, 1, 2, 255);
    const result = mergeContent({ path: '/x.bin', base: null, local: blob, remote: Uint8Array.from(blob) });
    expect(result).toMatchObject({ status: 'merged', kind: 'bytes' });
    expect(result.status === 'merged' && [...result.content]).toEqual([0, 1, 2, 255]);
  });

  it('takes the side that changed when the other equals the base', () => {
    expect(mergedText(merge('/a.txt', 'base\n', 'base\n', 'remote\n'))).toBe('remote\n');
    expect(mergedText(merge('/a.txt', 'base\n', 'local\n', 'base\n'))).toBe('local\n');
  });

  it('refuses to merge different sides without a common ancestor', () => {
    expect(conflictReason(merge('/a.txt', null, 'one\n', 'two\n'))).toMatch(/no common ancestor/);
  });

  it('never merges bytes', () => {
    const result = mergeContent({
      path: '/img.png',
      base: Uint8Array.of(0, 1),
      local: Uint8Array.of(0, 2),
      remote: Uint8Array.of(0, 3),
    });
    expect(result).toEqual({ status: 'conflict', kind: 'bytes', reason: 'binary content is never merged' });
  });
});

describe('mergeContent: JSON', () => {
  it('merges edits to different keys, recursively', () => {
    const base = '{"name":"a","settings":{"theme":"dark","size":1},"tags":["x"]}';
    const local = '{"name":"b","settings":{"theme":"dark","size":1},"tags":["x"]}';
    const remote = '{"name":"a","settings":{"theme":"dark","size":2},"tags":["x"],"added":true}';
    const result = merge('/c.json', base, local, remote);
    expect(result.kind).toBe('json');
    expect(JSON.parse(mergedText(result))).toEqual({
      name: 'b',
      settings: { theme: 'dark', size: 2 },
      tags: ['x'],
      added: true,
    });
  });

  it('reports a key changed differently on both sides as a conflict, naming it', () => {
    const result = merge('/c.json', '{"a":{"b":1}}', '{"a":{"b":2}}', '{"a":{"b":3}}');
    expect(conflictReason(result)).toBe('conflicting JSON changes at $.a.b');
  });

  it('deletes a key deleted on one side and unchanged on the other', () => {
    const result = merge('/c.json', '{"a":1,"b":2,"c":3}', '{"a":1,"c":3}', '{"a":1,"b":2,"c":4}');
    expect(JSON.parse(mergedText(result))).toEqual({ a: 1, c: 4 });
  });

  it('reports a key deleted on one side and changed on the other as a conflict', () => {
    const result = merge('/c.json', '{"a":1,"b":2}', '{"a":1}', '{"a":1,"b":5}');
    expect(conflictReason(result)).toMatch(/\$\.b/);
  });

  it('treats arrays as opaque values', () => {
    expect(conflictReason(merge('/c.json', '{"l":[1,2]}', '{"l":[1,2,3]}', '{"l":[0,1,2]}'))).toMatch(/\$\.l/);
    expect(JSON.parse(mergedText(merge('/c.json', '{"l":[1],"n":0}', '{"l":[1,2],"n":0}', '{"l":[1],"n":1}')))).toEqual({
      l: [1, 2],
      n: 1,
    });
  });

  it('merges an object key both sides added, key by key', () => {
    const result = merge('/c.json', '{}', '{"tools":{"grep":true}}', '{"tools":{"sed":true}}');
    expect(JSON.parse(mergedText(result))).toEqual({ tools: { grep: true, sed: true } });
  });

  it('is a conflict, never a write, when a side does not parse', () => {
    expect(conflictReason(merge('/c.json', '{"a":1}', '{"a":1,', '{"a":2}'))).toMatch(/^local is not valid JSON/);
    expect(conflictReason(merge('/c.json', '{"a":1}', '{"a":3}', 'nope'))).toMatch(/^remote is not valid JSON/);
  });

  it('refuses numbers a double cannot hold, instead of silently rounding them', () => {
    const result = merge('/c.json', '{"id":12345678901234567890,"a":1}', '{"id":12345678901234567890,"a":2}', '{"id":12345678901234567890,"a":1,"b":1}');
    expect(conflictReason(result)).toMatch(/12345678901234567890.*precision/);
    // Exponents, trailing zeros and long but exact literals are fine.
    const exact = '"x":1.50e2,"y":0.30000000000000004,"z":1e21,"w":-0.0';
    const result2 = merge('/c.json', `{${exact}}`, `{${exact},"a":1}`, `{${exact},"b":2}`);
    expect(JSON.parse(mergedText(result2))).toEqual({ x: 150, y: 0.30000000000000004, z: 1e21, w: 0, a: 1, b: 2 });
  });

  it('keeps a "__proto__" key as an ordinary key', () => {
    const result = merge('/c.json', '{"a":1}', '{"a":1,"__proto__":{"polluted":true}}', '{"a":2}');
    const parsed = JSON.parse(mergedText(result)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("writes in local's layout: indentation, line endings and final newline", () => {
    const base = { a: 1, b: { c: 1 } };
    const remote = JSON.stringify({ a: 2, b: { c: 1 } });
    const layouts: Array<[string, string]> = [
      [JSON.stringify({ a: 1, b: { c: 2 } }, null, 4) + '\n', JSON.stringify({ a: 2, b: { c: 2 } }, null, 4) + '\n'],
      [JSON.stringify({ a: 1, b: { c: 2 } }, null, '\t'), JSON.stringify({ a: 2, b: { c: 2 } }, null, '\t')],
      [JSON.stringify({ a: 1, b: { c: 2 } }), JSON.stringify({ a: 2, b: { c: 2 } })],
      [
        JSON.stringify({ a: 1, b: { c: 2 } }, null, 2).replaceAll('\n', '\r\n') + '\r\n',
        JSON.stringify({ a: 2, b: { c: 2 } }, null, 2).replaceAll('\n', '\r\n') + '\r\n',
      ],
    ];
    for (const [local, expected] of layouts) {
      expect(mergedText(merge('/c.json', JSON.stringify(base), local, remote))).toBe(expected);
    }
  });

  it('keeps both sides of any disjoint edits, and the result always parses', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'é', '__proto__', 'with space');
    const edit = fc.record({ side: fc.constantFrom('local', 'remote'), value: fc.option(fc.jsonValue(), { nil: undefined }) });
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue()), fc.dictionary(key, edit), (base, edits) => {
        const expected = { ...base } as Record<string, unknown>;
        const sides = { local: { ...base } as Record<string, unknown>, remote: { ...base } as Record<string, unknown> };
        for (const [k, { side, value }] of Object.entries(edits)) {
          for (const target of [expected, sides[side]]) {
            if (value === undefined) delete target[k];
            else Object.defineProperty(target, k, { value, enumerable: true, writable: true, configurable: true });
          }
        }
        const result = merge('/p.json', JSON.stringify(base), JSON.stringify(sides.local, null, 2), JSON.stringify(sides.remote));
        expect(JSON.parse(mergedText(result))).toEqual(JSON.parse(JSON.stringify(expected)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('mergeContent: JSONL', () => {
  const line = (n: number) => JSON.stringify({ n });
  const lines = (...ns: number[]) => ns.map((n) => `${line(n)}\n`).join('');

  it("keeps the base, then local's appends, then remote's", () => {
    const result = merge('/log.jsonl', lines(1, 2), lines(1, 2, 3, 4), lines(1, 2, 5));
    expect(result.kind).toBe('jsonl');
    expect(mergedText(result)).toBe(lines(1, 2, 3, 4, 5));
  });

  it('does not duplicate a line both sides appended', () => {
    expect(mergedText(merge('/log.jsonl', lines(1), lines(1, 2, 3), lines(1, 3, 4)))).toBe(lines(1, 2, 3, 4));
  });

  it('keeps lines one side appended more often than the other', () => {
    expect(mergedText(merge('/log.jsonl', lines(1), lines(1, 7), lines(1, 7, 7)))).toBe(lines(1, 7, 7));
  });

  it('falls back to diff3 when a side rewrote base lines', () => {
    const local = lines(1).replace('1', '10') + lines(2, 3);
    expect(mergedText(merge('/log.jsonl', lines(1, 2, 3), local, lines(1, 2, 3, 4)))).toBe(local + lines(4));
  });

  it('is a conflict when both sides rewrote the same line', () => {
    const result = merge('/log.jsonl', lines(1, 2), lines(9, 2), lines(8, 2));
    expect(conflictReason(result)).toMatch(/conflicting text changes at base line 1/);
  });

  it('is a conflict when a merged line is not JSON', () => {
    const result = merge('/log.jsonl', lines(1), `${lines(1)}{"broken":\n`, lines(1, 2));
    expect(conflictReason(result)).toBe('merged JSONL line 2 is not valid JSON');
  });

  it('terminates the output when a side did, and tolerates blank lines', () => {
    expect(mergedText(merge('/log.jsonl', line(1), `${line(1)}\n${line(2)}`, lines(1, 3)))).toBe(lines(1, 2, 3));
    expect(mergedText(merge('/log.jsonl', `${lines(1)}\n`, `${lines(1)}\n${lines(2)}`, `${lines(1)}\n${lines(3)}`))).toBe(
      `${lines(1)}\n${lines(2, 3)}`,
    );
  });
});

describe('mergeContent: text', () => {
  const doc = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');

  it('combines edits to different lines', () => {
    const base = doc('one', 'two', 'three', 'four', 'five');
    const result = merge('/a.md', base, doc('ONE', 'two', 'three', 'four', 'five'), doc('one', 'two', 'three', 'four', 'FIVE', 'six'));
    expect(result.kind).toBe('text');
    expect(mergedText(result)).toBe(doc('ONE', 'two', 'three', 'four', 'FIVE', 'six'));
  });

  it('reports overlapping edits as a conflict and writes no markers', () => {
    const result = merge('/a.md', doc('a', 'b', 'c'), doc('a', 'local', 'c'), doc('a', 'remote', 'c'));
    expect(conflictReason(result)).toBe('conflicting text changes at base line 2');
  });

  it('reports edits to adjacent lines as a conflict, as diff3 does', () => {
    const result = merge('/a.md', doc('a', 'b', 'c', 'd'), doc('a', 'B', 'c', 'd'), doc('a', 'b', 'C', 'd'));
    expect(conflictReason(result)).toMatch(/conflicting text changes/);
  });

  it('merges a moved line on one side with edits around it on the other', () => {
    const base = doc('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const local = doc('A', 'b', 'c', 'd', 'e', 'f', 'G');
    const remote = doc('a', 'b', 'c', 'e', 'd', 'f', 'g');
    expect(mergedText(merge('/a.md', base, local, remote))).toBe(doc('A', 'b', 'c', 'e', 'd', 'f', 'G'));
    expect(mergedText(merge('/a.md', base, remote, local))).toBe(doc('A', 'b', 'c', 'e', 'd', 'f', 'G'));
  });

  it('treats the same edit on both sides as no conflict', () => {
    const base = doc('a', 'b', 'c', 'd');
    expect(mergedText(merge('/a.md', base, doc('a', 'B', 'c', 'd'), doc('a', 'B', 'c', 'D')))).toBe(doc('a', 'B', 'c', 'D'));
  });

  it('keeps CRLF line endings and a missing final newline as written', () => {
    const base = 'a\r\nb\r\nc\r\nd';
    expect(mergedText(merge('/a.txt', base, 'A\r\nb\r\nc\r\nd', 'a\r\nb\r\nc\r\nD'))).toBe('A\r\nb\r\nc\r\nD');
  });

  it('merges around edits on both sides of an anchor line', () => {
    const base = doc('# title', '', 'intro', '', '## part', '', 'body', '');
    const local = doc('# title', '', 'intro', 'more intro', '', '## part', '', 'body', '');
    const remote = doc('# title', '', 'intro', '', '## part', '', 'body', 'more body', '');
    expect(mergedText(merge('/a.md', base, local, remote))).toBe(doc('# title', '', 'intro', 'more intro', '', '## part', '', 'body', 'more body', ''));
  });

  it('merges scattered edits in a large file with many repeated lines quickly', () => {
    const size = 20_000;
    const base = Array.from({ length: size }, (_, i) => (i % 2 === 0 ? '\n' : `line ${i}\n`));
    const local = [...base];
    local[3] = 'local top\n';
    local[size - 3] = 'local bottom\n';
    const remote = [...base];
    remote[size / 2 + 1] = 'remote middle\n';
    const started = performance.now();
    const result = mergedText(merge('/big.md', base.join(''), local.join(''), remote.join('')));
    expect(performance.now() - started).toBeLessThan(5_000);
    const expected = [...local];
    expected[size / 2 + 1] = 'remote middle\n';
    expect(result).toBe(expected.join(''));
  });

  it('keeps both sides of edits to disjoint line ranges', () => {
    const lines = fc.array(fc.string({ maxLength: 6 }).map((s) => s.replaceAll('\n', ' ')), { minLength: 4, maxLength: 30 });
    fc.assert(
      fc.property(lines, fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (base, top, bottom) => {
        // Local rewrites the first line, remote appends: separated by at least two untouched lines.
        const local = [`L${top.replaceAll('\n', ' ')}`, ...base.slice(1)];
        const remote = [...base, `R${bottom.replaceAll('\n', ' ')}`];
        const join = (ls: string[]) => ls.map((l) => `${l}\n`).join('');
        const result = merge('/p.txt', join(base), join(local), join(remote));
        expect(mergedText(result)).toBe(join([...local, remote.at(-1) as string]));
      }),
      { numRuns: 300 },
    );
  });
});
