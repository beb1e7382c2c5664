import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  RECONCILE_TABLE,
  classify,
  reconcile,
  type BaseSide,
  type LocalSide,
  type ReconcileAction,
  type ReconcileCase,
  type RemoteSide,
} from '../../src/sync/reconcile.js';
import { reconcileTableMarkdown } from './reconcile-table.js';

const local = (hash: string): LocalSide => ({ hash });
const base = (hash: string, revision = 1): BaseSide => ({ hash, revision });
const remote = (hash: string, revision = 1): RemoteSide => ({ hash, revision });

type Row = [string, LocalSide | null, BaseSide | null, RemoteSide | null, ReconcileAction, ReconcileCase];

// The decision table, one row per situation. Hashes: A = base content, B/C = edits.
const ROWS: Row[] = [
  ['neither side changed', local('A'), base('A'), remote('A'), 'nothing', 'unchanged'],
  ['same content rewritten remotely under a new revision', local('A'), base('A', 1), remote('A', 7), 'update_base', 'unchanged'],
  ['only local changed', local('B'), base('A'), remote('A'), 'push', 'local_changed'],
  ['only local changed, remote rewrote identical content', local('B'), base('A', 1), remote('A', 7), 'push', 'local_changed'],
  ['only remote changed', local('A'), base('A', 1), remote('B', 2), 'pull', 'remote_changed'],
  ['both changed to the same content', local('B'), base('A', 1), remote('B', 2), 'update_base', 'both_changed_same'],
  ['both changed differently', local('B'), base('A', 1), remote('C', 2), 'merge', 'both_changed'],
  ['local deleted, remote changed: the file comes back', null, base('A', 1), remote('B', 2), 'pull', 'local_deleted_remote_changed'],
  ['remote deleted, local changed: local is pushed again', local('B'), base('A'), null, 'push', 'remote_deleted_local_changed'],
  ['local deleted, remote unchanged: the delete propagates', null, base('A'), remote('A'), 'push', 'local_deleted'],
  ['local deleted, remote rewrote identical content', null, base('A', 1), remote('A', 7), 'push', 'local_deleted'],
  ['remote deleted, local unchanged: delete locally', local('A'), base('A'), null, 'pull', 'remote_deleted'],
  ['both deleted', null, base('A'), null, 'drop_base', 'both_deleted'],
  ['no base, local only', local('A'), null, null, 'push', 'local_only'],
  ['no base, remote only', null, null, remote('A'), 'pull', 'remote_only'],
  ['no base, both present with the same content', local('A'), null, remote('A', 3), 'update_base', 'new_both_same'],
  ['no base, both present and different', local('A'), null, remote('B', 3), 'conflict', 'new_both_different'],
  ['nothing anywhere', null, null, null, 'nothing', 'absent'],
];

describe('reconcile', () => {
  it.each(ROWS)('%s', (_name, l, b, r, action, kase) => {
    expect(reconcile(l, b, r)).toEqual({ action, case: kase });
  });

  it('covers every rule of RECONCILE_TABLE with the explicit rows', () => {
    const hit = new Set(ROWS.map(([, l, b, r]) => ruleIndex(l, b, r)));
    expect([...hit].sort((x, y) => x - y)).toEqual(RECONCILE_TABLE.map((_, i) => i));
  });

  it('lists each combination of states once', () => {
    const keys = RECONCILE_TABLE.map((r) => `${r.base}/${r.local}/${r.remote}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has a rule for every combination of hashes and revisions', () => {
    // Exhaustive over a small alphabet: every side absent or one of 3 hashes, revisions 1 or 2.
    const hashes = ['A', 'B', 'C'];
    const locals = [null, ...hashes.map(local)];
    const bases = [null, ...hashes.flatMap((h) => [base(h, 1), base(h, 2)])];
    const remotes = [null, ...hashes.flatMap((h) => [remote(h, 1), remote(h, 2)])];
    let checked = 0;
    for (const l of locals) {
      for (const b of bases) {
        for (const r of remotes) {
          expect(() => reconcile(l, b, r)).not.toThrow();
          checked += 1;
        }
      }
    }
    expect(checked).toBe(4 * 7 * 7);
  });

  it('never drops a local modification', () => {
    // "Nothing acknowledged is lost": whenever local differs from the base, the
    // action keeps it (push, merge, conflict or agreeing with an equal remote).
    for (const rule of RECONCILE_TABLE.filter((r) => r.local === 'changed' || r.local === 'present')) {
      expect(['push', 'merge', 'conflict', 'update_base']).toContain(rule.action);
    }
  });

  it('is documented: docs/sync.md holds the table generated from RECONCILE_TABLE', async () => {
    const docs = await readFile(new URL('../../docs/sync.md', import.meta.url), 'utf8');
    expect(docs).toContain(reconcileTableMarkdown());
  });
});

function ruleIndex(l: LocalSide | null, b: BaseSide | null, r: RemoteSide | null): number {
  const state = classify(l, b, r);
  return RECONCILE_TABLE.findIndex((x) => x.base === state.base && x.local === state.local && x.remote === state.remote);
}
