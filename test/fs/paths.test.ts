import { describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { normalizePath } from '../../src/paths.js';

const refused = (input: unknown) => {
  try {
    normalizePath(input);
    return false;
  } catch (err) {
    return isScopeFsError(err, 'EINVAL');
  }
};

describe('normalizePath', () => {
  it('answers the same for a path it has seen before: NFC, and the input kept apart from its normal form', () => {
    const nfd = '/cafe\u0301.md';
    for (let i = 0; i < 3; i++) expect(normalizePath(nfd)).toBe('/caf\u00e9.md');
    for (let i = 0; i < 3; i++) expect(normalizePath('/caf\u00e9.md')).toBe('/caf\u00e9.md');
  });

  it('refuses bad paths every time, also after many valid ones', () => {
    for (let i = 0; i < 10_000; i++) normalizePath(`/many/file-${i}.md`);
    for (const bad of ['relative.md', '/a//b', '/a/../b', '/.scopefs/x', '/a/', '/', '/x\u0000y', 42]) {
      expect(refused(bad), String(bad)).toBe(true);
      expect(refused(bad), String(bad)).toBe(true);
    }
    expect(normalizePath('/many/file-9999.md')).toBe('/many/file-9999.md');
    const long = `/${'a'.repeat(250)}/${'b'.repeat(250)}.md`;
    expect(normalizePath(long)).toBe(long);
    expect(normalizePath(long)).toBe(long);
  });
});
