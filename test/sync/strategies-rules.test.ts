/**
 * The pure parts of conflict strategies: parsing and checking the rules,
 * which rule a path gets, the `newest` tie-break, resolved-copy names, the
 * held-path book, and the convergence oracle's check of the side each
 * strategy must keep.
 */
import { describe, expect, it } from 'vitest';
import { conflictCopyPath, isConflictCopy, resolvedCopyOf, resolvedCopyPath } from '../../src/sync/conflict-copy.js';
import { deniedReason } from '../../src/sync/denylist.js';
import { createStrategyMatcher, parseStrategyRules, parseSyncConfig } from '../../src/sync/patterns.js';
import { DEFAULT_RULE, describeRule, localIsNewer, type StrategyRule } from '../../src/sync/strategies.js';
import { HeldPaths } from '../../src/sync/strategies-held.js';
import { SyncTargets } from '../../src/sync/sync-target.js';
import { resolvedAgainstStrategy } from '../reliability/harness/verify.js';

const config = (value: unknown) => parseSyncConfig(JSON.stringify(value));

describe('conflictStrategies in sync-config.json and the options', () => {
  it('parses an ordered list of rules, empty by default', () => {
    const rules = [
      { pattern: 'tasks/status.json', strategy: 'newest' },
      { pattern: 'state/', strategy: 'fail-stop' },
    ];
    expect(config({ conflictStrategies: rules })).toEqual({ ok: true, config: { syncFilePatterns: [], privateSyncFilePatterns: [], conflictStrategies: rules } });
    expect(config({ syncFilePatterns: ['**'] })).toMatchObject({ ok: true, config: { conflictStrategies: [] } });
  });

  it.each([
    ['an unknown strategy', [{ pattern: '**', strategy: 'server' }], /conflictStrategies\[0\]\.strategy: the strategy must be one of merge, newest, local, remote, manual, fail-stop/],
    ['a negated pattern', [{ pattern: '!a/**', strategy: 'local' }], /conflictStrategies\[0\]\.pattern: a strategy pattern cannot be negated with "!": order the rules instead/],
    ['an empty pattern', [{ pattern: '  ', strategy: 'local' }], /conflictStrategies\[0\]\.pattern: a pattern must not be empty/],
    ['a pattern too long', [{ pattern: 'a'.repeat(5000), strategy: 'local' }], /at most 4096 characters/],
    ['a misspelt key', [{ pattern: '**', stratgy: 'local' }], /conflictStrategies\[0\]/],
    ['a list that is not an array', { pattern: '**', strategy: 'local' }, /conflictStrategies/],
  ])('refuses %s, naming the rule', (_name, rules, message) => {
    const parsed = config({ conflictStrategies: rules });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });

  it('checks the library option the same way, and a bad option leaves the targets in error (sync pauses)', () => {
    expect(parseStrategyRules(undefined)).toEqual({ ok: true, rules: [] });
    const bad = parseStrategyRules([{ pattern: 'a/**', strategy: 'theirs' }]);
    expect(!bad.ok && bad.error).toMatch(/^the conflictStrategies option is invalid: conflictStrategies\[0\]\.strategy: the strategy must be one of/);
    const targets = SyncTargets.fromConfigBytes(null, undefined, [{ pattern: 'a/**', strategy: 'theirs' }]);
    expect(targets.error).toMatch(/conflictStrategies option is invalid/);
    expect(targets.ownerOf('/a/b.md')).toBeNull();
  });

  it('config rules come first, then the option rules; the first match wins; merge otherwise', () => {
    const fromFile: StrategyRule[] = [
      { pattern: 'tasks/status.json', strategy: 'newest' },
      { pattern: 'tasks/', strategy: 'remote' },
    ];
    const fromOptions: StrategyRule[] = [
      { pattern: '/tasks/**', strategy: 'local' },
      { pattern: '**/*.md', strategy: 'manual' },
    ];
    const ruleOf = createStrategyMatcher(fromFile, fromOptions);
    expect(ruleOf('/tasks/status.json')).toEqual({ strategy: 'newest', source: 'config', pattern: 'tasks/status.json', index: 0 });
    expect(ruleOf('/tasks/deep/x.json')).toEqual({ strategy: 'remote', source: 'config', pattern: 'tasks/', index: 1 });
    expect(ruleOf('/notes/.hidden.md')).toEqual({ strategy: 'manual', source: 'options', pattern: '**/*.md', index: 1 });
    expect(ruleOf('/other.json')).toEqual(DEFAULT_RULE);
  });

  it('the targets give each path its rule from sync-config.json and the option', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ conflictStrategies: [{ pattern: 'a/**', strategy: 'local' }] }));
    const targets = SyncTargets.fromConfigBytes(bytes, undefined, [{ pattern: '**', strategy: 'manual' }]);
    expect(targets.ruleFor('/a/x').strategy).toBe('local');
    expect(targets.ruleFor('/b/x')).toMatchObject({ strategy: 'manual', source: 'options', index: 0 });
  });

  it('names each rule in one line', () => {
    expect(describeRule({ strategy: 'newest', source: 'config', pattern: 'tasks/**', index: 2 })).toBe('sync-config.json conflictStrategies[2] "tasks/**" -> newest');
    expect(describeRule({ strategy: 'local', source: 'options', pattern: '*.md', index: 0 })).toBe('options.conflictStrategies[0] "*.md" -> local');
    expect(describeRule({ strategy: 'remote', source: 'resolution', pattern: 'x', index: 0 })).toBe('resolved by request -> remote');
    expect(describeRule(DEFAULT_RULE)).toBe('default -> merge');
  });
});

describe('newest', () => {
  it('the later modification wins; a tie goes to the greater instance id, whichever side asks', () => {
    expect(localIsNewer({ modifiedAt: 2, instance: 'a' }, { modifiedAt: 1, instance: 'b' })).toBe(true);
    expect(localIsNewer({ modifiedAt: 1, instance: 'b' }, { modifiedAt: 2, instance: 'a' })).toBe(false);
    const b = { modifiedAt: 5, instance: 'b' };
    const a = { modifiedAt: 5, instance: 'a' };
    expect(localIsNewer(b, a)).toBe(true); // b, asking, keeps its own
    expect(localIsNewer(a, b)).toBe(false); // a, asking, takes b's
  });
});

describe('resolved copies', () => {
  const at = new Date('2024-01-31T23:59:59.500Z');

  it('are named after the instance whose content they hold, and parse back', () => {
    expect(resolvedCopyPath('/dir/name.ext', at, 'laptop')).toBe('/dir/name.sync-resolved-20240131-235959-laptop.ext');
    expect(resolvedCopyPath('/Makefile', at, 'a b')).toBe('/Makefile.sync-resolved-20240131-235959-a-b');
    expect(resolvedCopyPath('/x.md', at, 'a', 2)).toBe('/x.sync-resolved-20240131-235959_2-a.md');
    expect(resolvedCopyOf('/dir/name.sync-resolved-20240131-235959_3-my-box-2.ext')).toEqual({ original: '/dir/name.ext', instance: 'my-box-2' });
    expect(resolvedCopyOf('/dir/name.ext')).toBeNull();
  });

  it('never sync and are not conflict copies (no conflict is repaired or adopted from them)', () => {
    const copy = resolvedCopyPath('/notes/a.md', at, 'b');
    expect(deniedReason(copy)).not.toBeNull();
    expect(isConflictCopy(copy)).toBe(false);
    expect(resolvedCopyOf(conflictCopyPath('/notes/a.md', at, 'b'))).toBeNull();
  });

  it('fit a path segment when the name is long', () => {
    const copy = resolvedCopyPath(`/${'n'.repeat(300)}.md`, at, 'b', 12);
    expect(Buffer.byteLength(copy.slice(1))).toBeLessThanOrEqual(255);
    expect(resolvedCopyOf(copy)).toMatchObject({ instance: 'b' });
  });
});

describe('HeldPaths', () => {
  const rule = { strategy: 'fail-stop' as const, source: 'config' as const, pattern: 'state/**', index: 0 };

  it('holds a path once, and a resolution changes only its next decision', () => {
    const held = new HeldPaths();
    const entry = { path: '/state/x', strategy: 'fail-stop', rule: 'sync-config.json conflictStrategies[0] "state/**" -> fail-stop', case: 'both_changed', since: new Date(1000).toISOString() };
    expect(held.hold('/state/x', rule, 'both_changed', new Date(1000))).toEqual(entry);
    expect(held.hold('/state/x', rule, 'both_changed', new Date(2000))).toBeUndefined();
    expect(held.list()).toEqual([entry]);
    expect(held.ruleFor('/state/x', rule)).toBe(rule);
    held.resolve('/state/x', 'remote');
    expect(held.ruleFor('/state/x', rule)).toEqual({ ...rule, strategy: 'remote', source: 'resolution' });
    held.settled('/state/x');
    expect(held.has('/state/x')).toBe(false);
    expect(held.ruleFor('/state/x', rule)).toBe(rule);
  });

  it('refuses to resolve a path it does not hold', () => {
    expect(() => new HeldPaths().resolve('/free', 'local')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('the convergence oracle: the side each strategy must keep', () => {
  const rules: StrategyRule[] = [
    { pattern: '**/*.md', strategy: 'local' },
    { pattern: '**/*.json', strategy: 'remote' },
    { pattern: '**/*.bin', strategy: 'newest' },
    { pattern: '**/*.jsonl', strategy: 'fail-stop' },
  ];
  const copies = (...paths: string[]) => new Map(paths.map((p) => [p, Buffer.from('x')]));
  const at = new Date(0);

  it('accepts copies of the side the strategy drops', () => {
    const ok = copies(resolvedCopyPath('/n.md', at, 'b'), resolvedCopyPath('/s.json', at, 'a'), resolvedCopyPath('/x.bin', at, 'a'), resolvedCopyPath('/x.bin', at, 'c', 2), resolvedCopyPath('/l.jsonl', at, 'c'));
    expect(resolvedAgainstStrategy('a', ok, rules)).toEqual([]);
  });

  it('flags a copy of the side the strategy keeps, and any copy of a merge path', () => {
    const wrong = copies(resolvedCopyPath('/n.md', at, 'a'), resolvedCopyPath('/s.json', at, 'b'), resolvedCopyPath('/l.jsonl', at, 'a'), resolvedCopyPath('/other.txt', at, 'b'));
    const problems = resolvedAgainstStrategy('a', wrong, rules);
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/n\.sync-resolved.*local keeps this instance's side/);
    expect(problems.join('\n')).toMatch(/s\.sync-resolved.*remote keeps the store's side/);
    expect(problems.join('\n')).toMatch(/other\.sync-resolved.*never drops a side/);
  });
});
