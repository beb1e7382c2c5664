import { describe, expect, it } from 'vitest';
import { MAX_SCOPE_DIR_NAME, scopeDirName, scopeKeyOfDirName } from '../../supervisors/scope/scope-dir.js';
import { isScopeFsError } from '../../src/errors.js';

const SAFE = /^(?:[a-z0-9_.-]|~[0-9a-f]{2})+$/;

function refused(key: unknown): boolean {
  try {
    scopeDirName(key as string);
    return false;
  } catch (err) {
    return isScopeFsError(err, 'EINVAL');
  }
}

describe('scopeDirName', () => {
  it('keeps lowercase ASCII and round-trips every key', () => {
    expect(scopeDirName('agent-abc')).toBe('agent-abc');
    expect(scopeDirName(['user', 123])).toBe('user~2f123');
    for (const key of ['user/123', 'User', 'a.b', 'ünïcødé', '日本/語', 'a b', 'x~2f', 'con', 'NUL', 'com1.txt', 'a.', '.a', 'emoji 🙂']) {
      const name = scopeDirName(key);
      expect(name).toMatch(SAFE);
      expect(scopeKeyOfDirName(name)).toBe(key.normalize('NFC'));
    }
  });

  it('refuses keys that could escape or are not keys at all', () => {
    for (const key of ['..', '.', 'a/../b', '/abs', 'a//b', 'nul\u0000byte', 'line\nbreak', '', ' padded', [], 1.5]) {
      expect(refused(key), JSON.stringify(key)).toBe(true);
    }
  });

  it('refuses a key whose name would be too long, with a message saying what to do', () => {
    expect(refused('a'.repeat(MAX_SCOPE_DIR_NAME + 1))).toBe(true);
    expect(refused('é'.repeat(60))).toBe(true); // 60 chars, 120 bytes, 360 encoded
    expect(() => scopeDirName('A'.repeat(100))).toThrow(/shorter key/);
    expect(scopeDirName('a'.repeat(MAX_SCOPE_DIR_NAME))).toHaveLength(MAX_SCOPE_DIR_NAME);
  });

  it('never lets case variants, lookalikes or normal forms collide on a case-insensitive filesystem', () => {
    const keys = ['user', 'User', 'USER', 'uSer', 'usеr' /* Cyrillic е */, 'ｕser' /* fullwidth */, 'ǅ', 'ǆ', 'Ǆ', 'ß', 'ss', 'K', 'k'];
    const folded = new Map<string, string>();
    for (const key of keys) {
      const name = scopeDirName(key).toLowerCase();
      expect(folded.get(name), `${key} vs ${folded.get(name)}`).toBeUndefined();
      folded.set(name, key);
    }
  });

  it('names the NFC and NFD forms of one key the same scope', () => {
    const nfd = 'cafe\u0301';
    expect(scopeDirName(nfd)).toBe(scopeDirName('caf\u00e9'));
    expect(scopeKeyOfDirName(scopeDirName(nfd))).toBe('caf\u00e9');
    expect(scopeDirName('\u212a')).toBe(scopeDirName('K')); // the Kelvin sign is K in NFC
  });

  it('is never a Windows device name or a dot name', () => {
    for (const key of ['con', 'prn', 'aux', 'nul', 'com1', 'lpt9', 'nul.txt', 'con.d/x']) {
      const name = scopeDirName(key);
      expect(name).not.toMatch(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/);
    }
    expect(scopeDirName('.hidden').startsWith('.')).toBe(false);
    expect(scopeDirName('trail.').endsWith('.')).toBe(false);
  });

  it('decodes only names it would give', () => {
    for (const name of ['~61', 'A', '..', '.scopefs', 'a~zz', 'a~2', '~ff', 'a/b', '', '~2e~2e']) {
      expect(scopeKeyOfDirName(name), name).toBeUndefined();
    }
  });
});
