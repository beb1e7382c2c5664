/**
 * planSyncPath under each conflict strategy: every contested case of the
 * reconcile table turned into changes, the `newest` tie-break, and over
 * random sides that no strategy drops a side that changed (the loser is in a
 * resolved copy, or both are kept, or the path is held).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConflictStrategy } from '../../src/sync/strategies.js';
import { planSyncPath, type SyncPlan } from '../../src/sync/sync-plan.js';
import { BASE, BOTH_MERGED, LOCAL_EDIT, REMOTE_EDIT, factsFor, row, text, type Sides } from './plan-fixtures.js';

describe('planSyncPath: conflict strategies (every contested case x every strategy)', () => {
  const CONTESTED: Record<string, Sides> = {
    both_changed: { local: LOCAL_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] },
    new_both_different: { local: LOCAL_EDIT, base: null, remote: [REMOTE_EDIT, 2] },
    local_deleted_remote_changed: { local: null, base: [BASE, 1], remote: [REMOTE_EDIT, 2] },
    remote_deleted_local_changed: { local: LOCAL_EDIT, base: [BASE, 1], remote: ['deleted', 2] },
  };
  /** Where each side ends: local file, store, conflict copy, resolved copy (the discarded side); `held`: nothing moves. */
  interface Outcome {
    local?: string;
    store?: string;
    copy?: string;
    resolved?: string;
    held?: true;
  }
  const L = LOCAL_EDIT;
  const R = REMOTE_EDIT;
  const kept = (side: string, resolved?: string): Outcome => ({ local: side, store: side, ...(resolved ? { resolved } : {}) });
  const conflict: Outcome = { local: L, store: R, copy: R };
  const gone = (resolved: string): Outcome => ({ resolved });
  const held = (s: Sides): Outcome => ({ local: s.local ?? undefined, store: s.remote?.[0] === 'deleted' ? undefined : (s.remote?.[0] ?? undefined), held: true });
  // newest: the row's time (0) equals the local mtime (none: 0), so the greater instance id wins: 'self' > 'other'.
  const EXPECTED: Record<ConflictStrategy, Record<string, Outcome>> = {
    merge: { both_changed: kept(BOTH_MERGED), new_both_different: conflict, local_deleted_remote_changed: kept(R), remote_deleted_local_changed: kept(L) },
    newest: { both_changed: kept(L, R), new_both_different: kept(L, R), local_deleted_remote_changed: kept(R), remote_deleted_local_changed: kept(L) },
    local: { both_changed: kept(L, R), new_both_different: kept(L, R), local_deleted_remote_changed: gone(R), remote_deleted_local_changed: kept(L) },
    remote: { both_changed: kept(R, L), new_both_different: kept(R, L), local_deleted_remote_changed: kept(R), remote_deleted_local_changed: gone(L) },
    manual: { both_changed: conflict, new_both_different: conflict, local_deleted_remote_changed: kept(R), remote_deleted_local_changed: kept(L) },
    'fail-stop': Object.fromEntries(Object.entries(CONTESTED).map(([k, s]) => [k, held(s)])),
  };
  const STRATEGIES = Object.keys(EXPECTED) as ConflictStrategy[];

  function outcome(s: Sides, plan: SyncPlan): Outcome {
    const remoteText = s.remote === null || s.remote[0] === 'deleted' ? undefined : s.remote[0];
    const local = plan.local?.kind === 'write' ? text(plan.local.content) : plan.local?.kind === 'delete' ? undefined : (s.local ?? undefined);
    const store = plan.push ? (plan.push.content === null ? undefined : text(plan.push.content)) : remoteText;
    const result: Outcome = { local, store };
    if (plan.conflict) result.copy = text(plan.conflict.remote);
    if (plan.resolution) result.resolved = text(plan.resolution.discarded);
    if (plan.held) result.held = true;
    return JSON.parse(JSON.stringify(result)) as Outcome; // drop undefined sides
  }

  it.each(STRATEGIES.flatMap((strategy) => Object.keys(CONTESTED).map((kase) => [`${strategy} / ${kase}`, strategy, kase] as const)))(
    '%s',
    (_name, strategy, kase) => {
      const sides = CONTESTED[kase]!;
      const facts = factsFor(sides, {}, strategy);
      expect(facts.case).toBe(kase);
      const plan = planSyncPath(facts);
      expect(plan.retry).toBe(false);
      expect(plan.refused).toBeUndefined();
      expect(outcome(sides, plan)).toEqual(JSON.parse(JSON.stringify(EXPECTED[strategy][kase])));
      if (plan.held) expect(plan).toEqual({ pulled: false, retry: false, held: { rule: facts.rule, case: kase } });
      // A rule that discarded a side names itself, and the loser's instance.
      if (plan.resolution) {
        expect(plan.resolution).toMatchObject({ rule: facts.rule, case: kase });
        expect(plan.resolution.discardedInstance).toBe(plan.resolution.kept === 'local' ? 'other' : 'self');
      }
      if (plan.conflict) expect(plan.conflict.rule).toEqual(facts.rule);
      // The remote version is the base whenever a rule chose: a winning local side is pushed on top of it.
      if (plan.resolution?.kept === 'local') expect(plan.push?.baseRevision).toBe(2);
    },
  );

  it('newest: the later modification wins, a tie goes to the greater instance id on every instance', () => {
    const sides = CONTESTED.both_changed!;
    const plan = (modifiedAt: number, updatedAt: number, instanceId = 'self', updatedBy = 'other') => {
      const facts = factsFor(sides, {}, 'newest');
      return planSyncPath({ ...facts, instanceId, local: { ...facts.local!, modifiedAt }, remote: { ...row(REMOTE_EDIT, 2, updatedBy), updatedAt } });
    };
    expect(plan(20, 10).resolution?.kept).toBe('local');
    expect(plan(10, 20).resolution?.kept).toBe('remote');
    // The same pair seen from each side: instance "b" wins on both.
    expect(plan(10, 10, 'b', 'a').resolution?.kept).toBe('local');
    expect(plan(10, 10, 'a', 'b').resolution?.kept).toBe('remote');
  });

  it('a rule that keeps a side re-reads a moved row and a vanished file instead of deciding on stale state', () => {
    const facts = factsFor(CONTESTED.both_changed!, {}, 'local');
    const newer = row('a third version\n', 3);
    expect(planSyncPath({ ...facts, remote: newer })).toEqual({ observed: { row: newer }, pulled: false, retry: true });
    expect(planSyncPath({ ...facts, local: { ...facts.local!, content: null } })).toEqual({ pulled: false, retry: true });
  });

  it('no strategy drops a side that changed: over random sides, every changed side is kept somewhere', () => {
    const texts = fc.constantFrom('a\n', 'a\nb\n', 'b\n', '{"k":1}', '{"k":2}', '');
    const option = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
    const arb = fc.tuple(option(texts), option(texts), option(fc.tuple(fc.option(texts, { nil: 'deleted' as const }), fc.constantFrom(1, 2))), fc.constantFrom(...STRATEGIES));
    fc.assert(
      fc.property(arb, ([local, base, remote, strategy]) => {
        const s: Sides = {
          local,
          base: base === null ? null : [base, 1],
          remote: remote === null ? null : remote[1] === 1 && base !== null ? [base, 1] : [remote[0], 2],
        };
        const plan = planSyncPath(factsFor(s, {}, strategy));
        const o = outcome(s, plan);
        const everywhere = [o.local, o.store, o.copy, o.resolved].filter((t): t is string => t !== undefined);
        const remoteText = s.remote === null || s.remote[0] === 'deleted' ? null : s.remote[0];
        const keepsLines = (side: string) => everywhere.some((t) => t === side || side.split('\n').every((line) => t.split('\n').includes(line)));
        if (s.local !== null && s.local !== s.base?.[0]) expect(keepsLines(s.local)).toBe(true);
        if (remoteText !== null && remoteText !== s.base?.[0]) expect(keepsLines(remoteText)).toBe(true);
        // Unless held or in conflict, both sides end the same.
        if (!plan.held && !plan.conflict) expect(o.local).toBe(o.store);
      }),
      { numRuns: 1000 },
    );
  });
});
