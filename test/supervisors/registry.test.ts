import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { ScopeKey } from '../../src/types.js';
import { ScopeRegistry, canonicalScopeKey } from '../../supervisors/scope/scope-key.js';

describe('canonicalScopeKey', () => {
  it.each<[ScopeKey, string]>([
    [['user', 123], 'user/123'],
    [['user', '123'], 'user/123'],
    ['user/123', 'user/123'],
    ['agent-abc', 'agent-abc'],
    [['agent-abc'], 'agent-abc'],
    [789, '789'],
    ['789', '789'],
    [-5, '-5'],
    [-0, '0'],
    [['org', 7, 'project', 'x y'], 'org/7/project/x y'],
    ['cafe\u0301', 'caf\u00e9'], // NFC
  ])('%j -> %s', (key, canonical) => {
    expect(canonicalScopeKey(key)).toBe(canonical);
  });

  it.each<[unknown, RegExp]>([
    ['', /empty segment/],
    [[], /empty tuple/],
    [['user', ''], /empty segment/],
    ['user//1', /empty segment/],
    ['/user', /empty segment/],
    ['user/', /empty segment/],
    [['a/b', 1], /contains "\/"/],
    [NaN, /NaN is not a safe integer/],
    [Infinity, /Infinity is not a safe integer/],
    [1.5, /not a safe integer/],
    [2 ** 53, /not a safe integer/],
    [['user', NaN], /not a safe integer/],
    ['tab\there', /control character/],
    ['line\nbreak', /control character/],
    ['nul\u0000', /control character/],
    [' padded', /surrounding whitespace/],
    [['x', 'padded '], /surrounding whitespace/],
    ['..', /segment "\.\."/],
    [['user', '.'], /segment "\."/],
    ['x'.repeat(257), /longer than 256/],
    [[['nested']], /strings or numbers/],
    [null, /expected a string/],
    [{ user: 1 }, /expected a string/],
    [true, /expected a string/],
  ])('rejects %j with EINVAL', (key, why) => {
    let error: unknown;
    try {
      canonicalScopeKey(key as ScopeKey);
    } catch (err) {
      error = err;
    }
    expect(isScopeFsError(error, 'EINVAL')).toBe(true);
    expect(String(error)).toMatch(why);
    expect(String(error)).toMatch(/invalid scope key/);
  });

  it('accepts 256 characters exactly', () => {
    expect(canonicalScopeKey('x'.repeat(256))).toHaveLength(256);
  });

  const segment = fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((s) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029/]/.test(s) && s.trim() === s && s !== '.' && s !== '..')
    .map((s) => s.normalize('NFC'))
    .filter((s) => s.length > 0 && s.trim() === s && s !== '.' && s !== '..');
  const element = fc.oneof(segment, fc.integer());
  const tuple = fc.array(element, { minLength: 1, maxLength: 6 });

  it('is deterministic and names a tuple the same as its joined string form', () => {
    fc.assert(
      fc.property(tuple, (key) => {
        const canonical = canonicalScopeKey(key);
        expect(canonicalScopeKey([...key])).toBe(canonical);
        expect(canonicalScopeKey(key.join('/'))).toBe(canonical);
        expect(canonicalScopeKey(canonical)).toBe(canonical);
      }),
    );
  });

  it('gives different tuples different keys', () => {
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        const sameSegments = a.map(String).join('\u0000') === b.map(String).join('\u0000');
        expect(canonicalScopeKey(a) === canonicalScopeKey(b)).toBe(sameSegments);
      }),
    );
  });
});

describe('Registry', () => {
  it('finds a value under any form of its key', () => {
    const registry = new ScopeRegistry<string>();
    registry.register(['user', 123], 'user scope');
    registry.register('agent-abc', 'agent scope');
    registry.register(789, 'numeric scope');
    expect(registry.lookup('user/123')).toBe('user scope');
    expect(registry.lookup(['user', '123'])).toBe('user scope');
    expect(registry.lookup(['agent-abc'])).toBe('agent scope');
    expect(registry.lookup('789')).toBe('numeric scope');
    expect(registry.lookup(['user', 124])).toBeUndefined();
    expect(registry.keys()).toEqual(['user/123', 'agent-abc', '789']);
    expect(registry.size).toBe(3);
  });

  it('refuses a taken key with EEXIST', () => {
    const registry = new ScopeRegistry<number>();
    registry.register(['user', 1], 1);
    expect(() => registry.register('user/1', 2)).toThrow(/EEXIST: scope key "user\/1" is already registered/);
    expect(registry.lookup(['user', 1])).toBe(1);
  });

  it('unregisters, and with a value only when it is still the registered one', () => {
    const registry = new ScopeRegistry<object>();
    const old = {};
    const current = {};
    registry.register('s', old);
    expect(registry.unregister('s')).toBe(true);
    expect(registry.unregister('s')).toBe(false);
    registry.register('s', current);
    expect(registry.unregister('s', old)).toBe(false);
    expect(registry.lookup('s')).toBe(current);
    expect(registry.unregister(['s'], current)).toBe(true);
    expect(registry.keys()).toEqual([]);
  });

  it('rejects invalid keys with EINVAL', () => {
    const registry = new ScopeRegistry<number>();
    expect(() => registry.register('', 1)).toThrow(/EINVAL/);
    expect(() => registry.lookup(['a/b'])).toThrow(/EINVAL/);
    expect(() => registry.unregister(Infinity)).toThrow(/EINVAL/);
  });
});
