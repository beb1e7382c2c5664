/**
 * planCommit, the pure commit decision: each case of base / ours / theirs,
 * and what `fail` and `copy` make of a conflict.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isConflictCopy } from '../../src/sync/conflict-copy.js';
import { planCommit, type CommitInput, type Version } from '../../src/transactions/commit-plan.js';

const v = (text: string): Version => ({ content: Buffer.from(text), hash: sha256(text) });
const live = (text: string, revision = 7) => ({ ...v(text), revision });
const settings = { onConflict: 'fail' as const, transactionId: 'abc123', at: new Date('2026-12-02T10:00:00Z') };
const text = (item: object) => Buffer.from((item as { content: Uint8Array }).content).toString();

describe('planCommit', () => {
  it('applies the transaction\'s version where the live file is still the start one, conditional on its revision', () => {
    const plan = planCommit(
      [
        { path: '/same.md', base: v('a'), ours: v('b'), theirs: live('a', 3) },
        { path: '/new.md', base: null, ours: v('n'), theirs: null },
        { path: '/gone.md', base: v('g'), ours: null, theirs: live('g', 5) },
      ],
      settings,
    );
    expect(plan.committed).toBe(true);
    expect(plan.items).toEqual([
      { path: '/same.md', content: v('b').content, ifRevision: 3 },
      { path: '/new.md', content: v('n').content, ifRevision: 0 },
      { path: '/gone.md', delete: true, ifRevision: 5 },
    ]);
    expect(plan.changes).toEqual([
      { path: '/same.md', change: 'written' },
      { path: '/new.md', change: 'written' },
      { path: '/gone.md', change: 'deleted' },
    ]);
  });

  it('does nothing where both sides ended the same, or the transaction put the start version back', () => {
    const plan = planCommit(
      [
        { path: '/both.md', base: v('a'), ours: v('b'), theirs: live('b') },
        { path: '/back.md', base: v('a'), ours: v('a'), theirs: live('a') },
        { path: '/both-gone.md', base: v('a'), ours: null, theirs: null },
      ],
      settings,
    );
    expect(plan).toMatchObject({ committed: true, items: [], changes: [], conflicts: [] });
  });

  it('merges three ways where both changed a text file in different places', () => {
    const base = 'one\ntwo\nthree\n';
    const plan = planCommit([{ path: '/notes.md', base: v(base), ours: v('ONE\ntwo\nthree\n'), theirs: live('one\ntwo\nTHREE\n', 9) }], settings);
    expect(plan.committed).toBe(true);
    expect(text(plan.items[0]!)).toBe('ONE\ntwo\nTHREE\n');
    expect(plan.items[0]).toMatchObject({ ifRevision: 9 });
    expect(plan.changes).toEqual([{ path: '/notes.md', change: 'written', merged: true }]);
  });

  const conflicts: Array<[string, CommitInput, RegExp]> = [
    ['the same line', { path: '/n.md', base: v('x\n'), ours: v('ours\n'), theirs: live('theirs\n') }, /changed in the transaction and outside it/],
    ['binary content', { path: '/b.bin', base: v('\u0000a'), ours: v('\u0000b'), theirs: live('\u0000c') }, /binary/],
    ['delete against change', { path: '/d.md', base: v('x'), ours: null, theirs: live('y') }, /deleted in the transaction/],
    ['change against delete', { path: '/e.md', base: v('x'), ours: v('y'), theirs: null }, /deleted outside it/],
    ['two creations', { path: '/f.md', base: null, ours: v('mine'), theirs: live('yours') }, /no common ancestor/],
  ];

  it.each(conflicts)('with onConflict fail, a conflict (%s) commits nothing at all', (_, input, why) => {
    const plan = planCommit([{ path: '/fine.md', base: v('a'), ours: v('b'), theirs: live('a') }, input], settings);
    expect(plan.committed).toBe(false);
    expect(plan.items).toEqual([]);
    expect(plan.conflicts).toHaveLength(1);
    expect(plan.conflicts[0]!.path).toBe(input.path);
    expect(plan.conflicts[0]!.why).toMatch(why);
  });

  it('with onConflict copy, commits what merged and keeps the transaction\'s conflicting version beside the live one', () => {
    const plan = planCommit(
      [
        { path: '/fine.md', base: v('a'), ours: v('b'), theirs: live('a', 2) },
        { path: '/dir/n.md', base: v('x\n'), ours: v('ours\n'), theirs: live('theirs\n') },
        { path: '/d.md', base: v('x'), ours: null, theirs: live('y') },
      ],
      { ...settings, onConflict: 'copy' },
    );
    expect(plan.committed).toBe(true);
    const copy = plan.conflicts.find((c) => c.path === '/dir/n.md')!.copyPath!;
    expect(copy.startsWith('/dir/n.sync-conflict-')).toBe(true);
    expect(copy).toContain('tx-abc123');
    expect(isConflictCopy(copy)).toBe(true);
    expect(plan.items.map((item) => item.path)).toEqual(['/fine.md', copy]);
    expect(text(plan.items[1]!)).toBe('ours\n');
    expect(plan.items[1]).toMatchObject({ ifRevision: 0 });
    // A deletion has nothing to keep: the live version stays, and the conflict is reported.
    expect(plan.conflicts.find((c) => c.path === '/d.md')!.copyPath).toBeUndefined();
  });

  it('describes a conflict with the beginnings of the three versions', () => {
    const long = 'y'.repeat(500);
    const [conflict] = planCommit([{ path: '/c.bin', base: null, ours: { content: new Uint8Array([0xff, 0xfe]), hash: 'h1' }, theirs: live(long) }], settings).conflicts;
    expect(conflict).toMatchObject({ base: null, ours: '<2 bytes>' });
    expect(conflict!.theirs).toBe(`${'y'.repeat(200)}…`);
  });
});
