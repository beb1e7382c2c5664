/**
 * The sync engine's whole decision for one path, as data: every row of the
 * reconcile table turned into concrete changes, the cases where the state
 * moved under the decision, and the invariants that matter most: no plan
 * drops a side that changed, and every plan either brings both sides to one
 * content or opens a conflict.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { RECONCILE_TABLE, reconcile, type ReconcileCase } from '../../src/sync/reconcile.js';
import { agreement, inputsFor, planSyncPath, type RecordSides, type SyncPlan } from '../../src/sync/sync-plan.js';
import { BASE, BOTH_MERGED, LIMIT, LOCAL_EDIT, REMOTE_EDIT, bytes, factsFor, row, text, type Sides } from './plan-fixtures.js';


interface Expect {
  local?: 'write' | 'delete';
  localText?: string;
  push?: string | 'tombstone';
  pushBase?: number;
  /** The base recorded: its text, or null for "no base". */
  agree?: string | null;
  conflict?: string;
  pulled?: boolean;
}

type Row = [ReconcileCase, Sides, Expect];

/** One concrete input per table row, with the changes it must produce. Revisions: base 1, remote 1 (same row) or 2. */
const ROWS: Row[] = [
  ['unchanged', { local: BASE, base: [BASE, 1], remote: [BASE, 1] }, {}],
  ['unchanged', { local: BASE, base: [BASE, 1], remote: [BASE, 2] }, { agree: BASE }],
  ['local_changed', { local: LOCAL_EDIT, base: [BASE, 1], remote: [BASE, 1] }, { push: LOCAL_EDIT, pushBase: 1 }],
  ['local_changed', { local: LOCAL_EDIT, base: [BASE, 1], remote: [BASE, 2] }, { push: LOCAL_EDIT, pushBase: 2 }],
  ['remote_changed', { local: BASE, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { local: 'write', localText: REMOTE_EDIT, agree: REMOTE_EDIT, pulled: true }],
  ['both_changed_same', { local: REMOTE_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { agree: REMOTE_EDIT }],
  ['both_changed', { local: LOCAL_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { local: 'write', localText: BOTH_MERGED, push: BOTH_MERGED, pushBase: 2 }],
  ['local_deleted_remote_changed', { local: null, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { local: 'write', localText: REMOTE_EDIT, agree: REMOTE_EDIT, pulled: true }],
  ['remote_deleted_local_changed', { local: LOCAL_EDIT, base: [BASE, 1], remote: ['deleted', 2] }, { push: LOCAL_EDIT, pushBase: 2 }],
  ['local_deleted', { local: null, base: [BASE, 1], remote: [BASE, 1] }, { push: 'tombstone', pushBase: 1 }],
  ['local_deleted', { local: null, base: [BASE, 1], remote: [BASE, 2] }, { push: 'tombstone', pushBase: 2 }],
  ['remote_deleted', { local: BASE, base: [BASE, 1], remote: ['deleted', 2] }, { local: 'delete', agree: null, pulled: true }],
  ['both_deleted', { local: null, base: [BASE, 1], remote: null }, { agree: null }],
  ['local_only', { local: LOCAL_EDIT, base: null, remote: null }, { push: LOCAL_EDIT, pushBase: 0 }],
  ['remote_only', { local: null, base: null, remote: [REMOTE_EDIT, 2] }, { local: 'write', localText: REMOTE_EDIT, agree: REMOTE_EDIT, pulled: true }],
  ['new_both_same', { local: REMOTE_EDIT, base: null, remote: [REMOTE_EDIT, 2] }, { agree: REMOTE_EDIT }],
  ['new_both_different', { local: LOCAL_EDIT, base: null, remote: [REMOTE_EDIT, 2] }, { conflict: REMOTE_EDIT, agree: REMOTE_EDIT }],
  ['absent', { local: null, base: null, remote: null }, {}],
];

function expectPlan(plan: SyncPlan, expected: Expect): void {
  expect(plan.retry).toBe(false);
  expect(plan.refused).toBeUndefined();
  expect(plan.local?.kind).toBe(expected.local);
  if (expected.localText !== undefined) expect(plan.local?.kind === 'write' && text(plan.local.content)).toBe(expected.localText);
  const pushed = plan.push === undefined ? undefined : plan.push.content === null ? 'tombstone' : text(plan.push.content);
  expect(pushed).toBe(expected.push);
  if (plan.push) {
    expect(plan.push.baseRevision).toBe(expected.pushBase);
    expect(plan.push.hash).toBe(plan.push.content && sha256(plan.push.content));
  }
  const agreed = plan.agree === undefined ? undefined : plan.agree.sides.baseHash;
  const expectedAgree = expected.agree === undefined ? undefined : expected.agree === null ? null : sha256(bytes(expected.agree));
  expect(agreed).toBe(expectedAgree);
  expect(text(plan.conflict?.remote)).toBe(expected.conflict);
  expect(plan.pulled).toBe(expected.pulled ?? false);
}

describe('planSyncPath: the reconcile table as changes', () => {
  it('covers every case of the reconcile table', () => {
    expect(new Set(ROWS.map(([kase]) => kase))).toEqual(new Set(RECONCILE_TABLE.map((r) => r.case)));
  });

  it.each(ROWS.map(([kase, sides, expected], i) => [`${i}: ${kase}`, kase, sides, expected] as const))('%s', (_name, kase, sides, expected) => {
    const facts = factsFor(sides);
    const { record, local } = facts;
    expect(reconcile(local && { hash: local.hash }, record.baseHash === null ? null : { hash: record.baseHash, revision: record.baseRevision }, record.remoteHash === null ? null : { hash: record.remoteHash, revision: record.remoteRevision }).case).toBe(kase);
    expectPlan(planSyncPath(facts), expected);
  });

  it('local writes and deletes are conditional on the revision the decision saw', () => {
    const pull = planSyncPath(factsFor({ local: BASE, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }));
    expect(pull.local).toMatchObject({ kind: 'write', ifRevision: 5, source: 'other' });
    const create = planSyncPath(factsFor({ local: null, base: null, remote: [REMOTE_EDIT, 2] }));
    expect(create.local).toMatchObject({ kind: 'write', ifRevision: 0 });
    const remove = planSyncPath(factsFor({ local: BASE, base: [BASE, 1], remote: ['deleted', 2] }));
    expect(remove.local).toEqual({ kind: 'delete', ifRevision: 5, source: 'other' });
  });
});

describe('planSyncPath: the state moved under the decision', () => {
  const pullSides: Sides = { local: BASE, base: [BASE, 1], remote: [REMOTE_EDIT, 2] };
  const mergeSides: Sides = { local: LOCAL_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] };

  it.each([
    ['a pull', pullSides],
    ['a merge', mergeSides],
  ])('%s whose store row moved on records the newer row and decides again', (_name, sides) => {
    const newer = row('a third version\n', 3);
    const plan = planSyncPath(factsFor(sides, { remote: newer }));
    expect(plan).toEqual({ observed: { row: newer }, pulled: false, retry: true });
  });

  it('a row deleted since the decision is observed too (the record thought it present)', () => {
    const plan = planSyncPath(factsFor(pullSides, { remote: null }));
    expect(plan).toEqual({ observed: { row: null }, pulled: false, retry: true });
  });

  it.each([
    ['update_base', { local: REMOTE_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] } as Sides],
    ['push', { local: LOCAL_EDIT, base: [BASE, 1], remote: [BASE, 1] } as Sides],
    ['merge', mergeSides],
  ])('%s of a local file that vanished while being read is decided again, nothing else', (_name, sides) => {
    const facts = factsFor(sides);
    expect(planSyncPath({ ...facts, local: { ...facts.local!, content: null } })).toEqual({ pulled: false, retry: true });
  });

  it('pushes the bytes read, with their own hash, when the file changed again since the decision', () => {
    const facts = factsFor({ local: LOCAL_EDIT, base: [BASE, 1], remote: [BASE, 1] });
    const plan = planSyncPath({ ...facts, local: { ...facts.local!, content: bytes('newer still\n') } });
    expect(plan.push).toMatchObject({ content: bytes('newer still\n'), hash: sha256(bytes('newer still\n')) });
  });
});

describe('planSyncPath: refusals and merge outcomes', () => {
  it('refuses a remote row whose content does not match its hash, and writes nothing', () => {
    const corrupt = { ...row(REMOTE_EDIT, 2), content: bytes('tampered') };
    const facts = factsFor({ local: BASE, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { remote: corrupt });
    const plan = planSyncPath(facts);
    expect(plan.refused?.code).toBe('EINVAL');
    expect(plan.local).toBeUndefined();
    expect(plan.agree).toBeUndefined();
  });

  it('refuses a local file or a remote row over the size limit', () => {
    const big = 'x'.repeat(LIMIT + 1);
    expect(planSyncPath(factsFor({ local: big, base: [BASE, 1], remote: [BASE, 1] })).refused?.code).toBe('EFBIG');
    const plan = planSyncPath(factsFor({ local: BASE, base: [BASE, 1], remote: [big, 2] }));
    expect(plan.refused?.code).toBe('EFBIG');
    expect(plan.local).toBeUndefined();
  });

  it('a merge too large to push is still kept locally, and the path fails', () => {
    const half = (tag: string) => `${tag}\n${'y'.repeat(LIMIT / 2)}\n`;
    const base = 'a\nmiddle\nz\n';
    const plan = planSyncPath(factsFor({ local: `${half('a1')}middle\nz\n`, base: [base, 1], remote: [`a\nmiddle\n${half('z2')}`, 2] }));
    expect(plan.local?.kind).toBe('write');
    expect(plan.refused?.code).toBe('EFBIG');
    expect(plan.push).toBeUndefined();
  });

  it('a merge that equals the remote version adopts it: nothing to push', () => {
    // The remote made local's edit too, and one more: the merge is the remote text.
    const remote = 'a\nX\nc\nd\n';
    const plan = planSyncPath(factsFor({ local: 'a\nX\nc\n', base: ['a\nb\nc\n', 1], remote: [remote, 2] }));
    expect(plan).toMatchObject({ pulled: true, agree: { sides: { baseHash: sha256(bytes(remote)), baseRevision: 2 } } });
    expect(plan.local?.kind).toBe('write');
    expect(plan.push).toBeUndefined();
  });

  it('overlapping edits open a conflict: local stays, the remote version is the copy and the new base', () => {
    const plan = planSyncPath(factsFor({ local: 'one\n', base: ['zero\n', 1], remote: ['two\n', 2] }));
    expect(plan.local).toBeUndefined();
    expect(text(plan.conflict?.local)).toBe('one\n');
    expect(plan.conflict).toMatchObject({ remote: bytes('two\n'), remoteRevision: 2, remoteInstance: 'other' });
    expect(plan.agree?.sides).toEqual({ baseHash: sha256(bytes('two\n')), baseRevision: 2, remoteHash: sha256(bytes('two\n')), remoteRevision: 2 });
  });

  it('both changed with the base content gone: a conflict, never a guess', () => {
    const plan = planSyncPath(factsFor({ local: LOCAL_EDIT, base: [BASE, 1], remote: [REMOTE_EDIT, 2] }, { baseContent: null }));
    expect(text(plan.conflict?.remote)).toBe(REMOTE_EDIT);
    expect(plan.push).toBeUndefined();
  });

  it('keeps only text as a merge base', () => {
    const record: RecordSides = { baseHash: null, baseRevision: 0, remoteHash: null, remoteRevision: 4 };
    expect(agreement(record, 'h', 7, bytes('text')).blob).toEqual({ hash: 'h', content: bytes('text') });
    expect(agreement(record, 'h', 7, new Uint8Array([0xff, 0xfe])).blob).toBeUndefined();
    // A deletion forgets the base but keeps the last remote revision seen.
    expect(agreement(record, null, 0, null)).toEqual({ sides: { baseHash: null, baseRevision: 0, remoteHash: null, remoteRevision: 4 } });
  });
});

describe('planSyncPath: invariants (property over random sides)', () => {
  const texts = fc.constantFrom('a\n', 'a\nb\n', 'b\n', 'a\nc\n', '{"k":1}', '{"k":2}', '');
  const option = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
  /** Sides where one revision always names one content, as in the store. */
  const sides: fc.Arbitrary<Sides> = fc
    .tuple(option(texts), option(texts), option(fc.tuple(fc.option(texts, { nil: 'deleted' as const }), fc.constantFrom(1, 2, 3))))
    .map(([local, base, remote]) => ({
      local,
      base: base === null ? null : ([base, 1] as [string, number]),
      remote: remote === null ? null : remote[1] === 1 && base !== null ? ([base, 1] as [string, number]) : ([remote[0], remote[1] === 1 ? 2 : remote[1]] as Sides['remote']),
    }));

  /** What each side holds once the plan is carried out (and its push accepted). */
  function after(s: Sides, plan: SyncPlan): { local: string | undefined; store: string | undefined; copy: string | undefined } {
    const remoteText = s.remote === null || s.remote[0] === 'deleted' ? undefined : s.remote[0];
    const local = plan.local?.kind === 'write' ? text(plan.local.content) : plan.local?.kind === 'delete' ? undefined : (s.local ?? undefined);
    const store = plan.push ? (plan.push.content === null ? undefined : text(plan.push.content)) : remoteText;
    return { local, store, copy: text(plan.conflict?.remote) };
  }

  const keeps = (texts: (string | undefined)[], side: string) =>
    texts.some((t) => t !== undefined && (t === side || side.split('\n').every((line) => t.split('\n').includes(line))));

  it('no plan drops a side that changed, and every plan converges or opens a conflict', () => {
    fc.assert(
      fc.property(sides, (s) => {
        const plan = planSyncPath(factsFor(s));
        expect(plan.retry).toBe(false);
        expect(plan.refused).toBeUndefined();
        const result = after(s, plan);
        const kept = [result.local, result.store, result.copy];
        const baseText = s.base?.[0];
        const remoteText = s.remote === null || s.remote[0] === 'deleted' ? null : s.remote[0];
        if (s.local !== null && s.local !== baseText) expect(keeps(kept, s.local)).toBe(true);
        if (remoteText !== null && remoteText !== baseText) expect(keeps(kept, remoteText)).toBe(true);
        if (plan.conflict) {
          // Local stays, the remote version is kept beside it.
          expect(result.local).toBe(s.local);
          expect(result.copy).toBe(remoteText);
        } else {
          expect(result.local).toBe(result.store);
        }
        // When nothing is pushed, the recorded base is what the store holds (a push records it on its outcome).
        if (!plan.push) {
          const baseHash = plan.agree ? plan.agree.sides.baseHash : factsFor(s).record.baseHash;
          expect(baseHash).toBe(result.store === undefined ? null : sha256(bytes(result.store)));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
