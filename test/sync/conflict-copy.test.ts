import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { normalizePath } from '../../src/paths.js';
import { conflictCopyPath, conflictOriginal, isConflictCopy } from '../../src/sync/conflict-copy.js';
import { deniedReason } from '../../src/sync/denylist.js';

const at = new Date('2024-01-31T23:59:58.750Z');

describe('conflictCopyPath', () => {
  it.each([
    ['/dir/name.ext', '/dir/name.sync-conflict-20240131-235958-laptop.ext'],
    ['/archive.tar.gz', '/archive.tar.sync-conflict-20240131-235958-laptop.gz'],
    ['/Makefile', '/Makefile.sync-conflict-20240131-235958-laptop'],
    ['/home/.bashrc', '/home/.bashrc.sync-conflict-20240131-235958-laptop'],
    ['/cfg/.eslintrc.json', '/cfg/.eslintrc.sync-conflict-20240131-235958-laptop.json'],
    ['/odd.', '/odd..sync-conflict-20240131-235958-laptop'],
  ])('%s -> %s', (path, copy) => {
    expect(conflictCopyPath(path, at, 'laptop')).toBe(copy);
  });

  it('numbers further attempts in the same second after the time, which isConflictCopy still recognises', () => {
    const copy = conflictCopyPath('/dir/name.ext', at, 'laptop', 2);
    expect(copy).toBe('/dir/name.sync-conflict-20240131-235958_2-laptop.ext');
    expect(isConflictCopy(copy)).toBe(true);
    expect(conflictOriginal(copy)).toBe('/dir/name.ext');
    expect(conflictCopyPath('/dir/name.ext', at, 'laptop', 1)).toBe('/dir/name.sync-conflict-20240131-235958-laptop.ext');
  });

  it('uses UTC whatever the local time zone', () => {
    expect(conflictCopyPath('/a.md', new Date(Date.UTC(2025, 6, 4, 5, 6, 7)), 'x')).toBe('/a.sync-conflict-20250704-050607-x.md');
  });

  it('reduces the instance id to [A-Za-z0-9_-], at most 32 characters', () => {
    expect(conflictCopyPath('/a.md', at, 'host.example.com:8080/ü')).toBe('/a.sync-conflict-20240131-235958-host-example-com-8080.md');
    expect(conflictCopyPath('/a.md', at, 'x'.repeat(40))).toBe(`/a.sync-conflict-20240131-235958-${'x'.repeat(32)}.md`);
    expect(conflictCopyPath('/a.md', at, '...')).toBe('/a.sync-conflict-20240131-235958-unknown.md');
  });

  it('shortens a stem too long for a path segment, so the copy is a valid path', () => {
    const copy = conflictCopyPath(`/d/${'é'.repeat(120)}.md`, at, 'laptop');
    expect(normalizePath(copy)).toBe(copy);
    expect(isConflictCopy(copy)).toBe(true);
  });

  it('rejects an invalid date with a typed error', () => {
    expect(() => conflictCopyPath('/a.md', new Date(Number.NaN), 'x')).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    let caught: unknown;
    try {
      conflictCopyPath('/a.md', new Date(Date.UTC(10_000, 0, 1)), 'x');
    } catch (err) {
      caught = err;
    }
    expect(isScopeFsError(caught, 'EINVAL')).toBe(true);
  });

  it('makes copies the denylist never syncs', () => {
    expect(deniedReason(conflictCopyPath('/notes/a.md', at, 'laptop'))).toBe('engine: *.sync-conflict-*');
  });
});

describe('isConflictCopy and conflictOriginal', () => {
  it('recognise copies and give back the original path', () => {
    expect(isConflictCopy('/dir/name.sync-conflict-20240131-235958-laptop.ext')).toBe(true);
    expect(conflictOriginal('/dir/name.sync-conflict-20240131-235958-laptop.ext')).toBe('/dir/name.ext');
    expect(conflictOriginal('/home/.bashrc.sync-conflict-20240131-235958-a_b-c')).toBe('/home/.bashrc');
  });

  it.each(['/dir/name.ext', '/a.sync-conflict-2024-235958-x.md', '/a.sync-conflict-20240131-235958-.md', '/a.sync-conflict.md'])(
    'reject %s',
    (path) => {
      expect(isConflictCopy(path)).toBe(false);
      expect(conflictOriginal(path)).toBeNull();
    },
  );

  it('round-trip any ordinary path', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,20}$/).filter((s) => s.trim() === s && s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.string(), (segments, instance) => {
        const path = `/${segments.join('/')}`;
        const copy = conflictCopyPath(path, at, instance);
        expect(isConflictCopy(copy)).toBe(true);
        expect(conflictOriginal(copy)).toBe(path);
      }),
      { numRuns: 300 },
    );
  });
});
