import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CONTESTED_CASES,
  RECONCILE_TABLE,
  STRATEGY_ACTIONS,
  classify,
  isContested,
  reconcile,
  type BaseSide,
  type LocalSide,
  type ReconcileAction,
  type ReconcileCase,
  type RemoteSide,
} from '../../src/sync/reconcile.js';
import { CONFLICT_STRATEGIES, type ConflictStrategy } from '../../src/sync/strategies.js';
import { reconcileTableMarkdown, strategyTableMarkdown } from './reconcile-table.js';

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

/** What each strategy does with each contested case, spelled out (the table's data must say the same). */
const BY_STRATEGY: Record<ConflictStrategy, Record<string, ReconcileAction>> = {
  merge: { both_changed: 'merge', new_both_different: 'conflict', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  newest: { both_changed: 'keep_newest', new_both_different: 'keep_newest', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  local: { both_changed: 'keep_local', new_both_different: 'keep_local', local_deleted_remote_changed: 'keep_local', remote_deleted_local_changed: 'push' },
  remote: { both_changed: 'keep_remote', new_both_different: 'keep_remote', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'keep_remote' },
  manual: { both_changed: 'conflict', new_both_different: 'conflict', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  'fail-stop': { both_changed: 'hold', new_both_different: 'hold', local_deleted_remote_changed: 'hold', remote_deleted_local_changed: 'hold' },
};

describe('reconcile under each conflict strategy (every case x every strategy)', () => {
  const cases = ROWS.flatMap(([name, l, b, r, action, kase]) =>
    CONFLICT_STRATEGIES.map((strategy) => [`${strategy}: ${name}`, strategy, l, b, r, action, kase] as const),
  );

  it.each(cases)('%s', (_name, strategy, l, b, r, mergeAction, kase) => {
    const expected = isContested(kase) ? BY_STRATEGY[strategy][kase] : mergeAction;
    expect(reconcile(l, b, r, strategy)).toEqual({ action: expected, case: kase });
  });

  it('the strategy changes only the contested cases, and merge is the table itself', () => {
    expect(CONTESTED_CASES).toEqual(Object.keys(BY_STRATEGY.merge));
    expect(STRATEGY_ACTIONS).toEqual(BY_STRATEGY);
    for (const kase of CONTESTED_CASES) {
      expect(STRATEGY_ACTIONS.merge[kase]).toBe(RECONCILE_TABLE.find((r) => r.case === kase)!.action);
    }
    expect(reconcile(local('B'), base('A'), remote('C', 2))).toEqual(reconcile(local('B'), base('A'), remote('C', 2), 'merge'));
  });

  it('no strategy drops a side that changed without keeping it (pushed, merged, held, or a copy)', () => {
    // keep_local / keep_remote / keep_newest keep the losing side as a resolved copy (sync-plan.test.ts checks the plans).
    const keeping: ReconcileAction[] = ['push', 'pull', 'merge', 'conflict', 'update_base', 'keep_local', 'keep_remote', 'keep_newest', 'hold'];
    for (const strategy of CONFLICT_STRATEGIES) {
      for (const kase of CONTESTED_CASES) expect(keeping).toContain(STRATEGY_ACTIONS[strategy][kase]);
    }
  });

  it('is documented: docs/sync.md holds the strategy table generated from STRATEGY_ACTIONS', async () => {
    const docs = await readFile(new URL('../../docs/sync.md', import.meta.url), 'utf8');
    expect(docs).toContain(strategyTableMarkdown());
  });
});
