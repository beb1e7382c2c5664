import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertLines, numbered, pageOf, splitLines } from '../../src/mcp/text.js';

describe('line helpers', () => {
  it('splits lines with and without a final newline', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a')).toEqual(['a']);
    expect(splitLines('a\n')).toEqual(['a']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
    expect(splitLines('\n')).toEqual(['']);
  });

  it('pages concatenate back to the exact text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', 'é') }), fc.integer({ min: 1, max: 5 }), (text, limit) => {
        let rebuilt = '';
        for (let offset = 1; ; offset += limit) {
          const page = pageOf(text, offset, limit);
          rebuilt += page.text;
          if (page.last >= page.total) break;
        }
        expect(rebuilt).toBe(text);
      }),
    );
  });

  it('inserting adds exactly the inserted lines after the given line', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{0,3}$/), { maxLength: 6 }), fc.boolean(), fc.nat(), (lines, finalNewline, at) => {
        const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
        const total = splitLines(text).length;
        const line = at % (total + 1);
        const result = splitLines(insertLines(text, line, 'NEW'));
        expect(result).toEqual([...splitLines(text).slice(0, line), 'NEW', ...splitLines(text).slice(line)]);
      }),
    );
  });

  it('refuses a line past the end', () => {
    expect(() => insertLines('a\nb\n', 3, 'x')).toThrow(/between 0 and 2/);
  });

  it('numbers lines like cat -n', () => {
    expect(numbered(['a', 'b'], 9)).toBe('     9\ta\n    10\tb');
  });
});
