/**
 * The sync engine's decision for one path: given the local file, the base
 * (what both sides last agreed on) and the remote row, what to do. Pure: it
 * compares hashes and revisions and never touches I/O. Modelled on Mutagen's
 * reconcile step, and driven by RECONCILE_TABLE so the docs and the tests read
 * the same rows the code runs. A path's conflict strategy (strategies.ts)
 * changes the action of the contested cases only: STRATEGY_ACTIONS.
 */
import type { ConflictStrategy } from './strategies.js';

/**
 * A version on one side: the store's row revision for sync, the file's
 * version tag for the disk. Only compared for equality.
 */
export type Revision = number | string;

/** The local file; `null` = absent locally. */
export interface LocalSide {
  hash: string;
}
/** The last agreed state; `null` = no base (the sides never agreed). */
export interface BaseSide {
  hash: string;
  revision: Revision;
}
/** The store row; `null` = absent or a tombstone. */
export interface RemoteSide {
  hash: string;
  revision: Revision;
}

/**
 * - `push`: send the local state to the store (a tombstone when local is absent).
 * - `pull`: apply the remote state locally (delete locally when remote is absent).
 * - `update_base`: both sides hold the same content; record it (and the remote revision) as the base.
 * - `merge`: both sides changed differently; merge by kind, conflict if that fails.
 * - `drop_base`: both sides deleted; forget the base.
 * - `conflict`: no common ancestor and different contents (or a `manual` rule); keep local, write a conflict copy.
 * - `keep_local`: local wins by rule (`local`): push it over the remote; the remote version becomes a resolved copy.
 * - `keep_remote`: remote wins by rule (`remote`): apply it locally; the local version becomes a resolved copy.
 * - `keep_newest`: the later modification wins (`newest`), decided on the sides' stamps by sync-plan.ts.
 * - `hold`: a `fail-stop` rule: touch nothing; the path is held until resolved.
 */
export type ReconcileAction = TableAction | StrategyAction;
/** The actions of RECONCILE_TABLE (the `merge` strategy's, and the memory-vs-disk plan's). */
export type TableAction = 'nothing' | 'push' | 'pull' | 'update_base' | 'merge' | 'drop_base' | 'conflict';
/** The actions only a conflict strategy other than `merge` chooses. */
export type StrategyAction =
  | 'keep_local'
  | 'keep_remote'
  | 'keep_newest'
  | 'hold';

export type ReconcileCase =
  | 'unchanged'
  | 'local_changed'
  | 'remote_changed'
  | 'both_changed_same'
  | 'both_changed'
  | 'local_deleted_remote_changed'
  | 'remote_deleted_local_changed'
  | 'local_deleted'
  | 'remote_deleted'
  | 'both_deleted'
  | 'local_only'
  | 'remote_only'
  | 'new_both_same'
  | 'new_both_different'
  | 'absent';

/** The local side relative to the base (`present`/`absent` when there is no base). */
export type LocalState = 'unchanged' | 'changed' | 'deleted' | 'present' | 'absent';

/**
 * The remote side relative to the base and to local. `new_revision`: same
 * hash as the base under a newer revision (a rewrite of identical content),
 * which is not a change. `same_as_local`: same hash as the local file.
 */
export type RemoteState = 'unchanged' | 'new_revision' | 'changed' | 'same_as_local' | 'deleted' | 'present' | 'absent';

export interface ReconcileRule {
  base: 'present' | 'absent';
  local: LocalState;
  remote: RemoteState;
  case: ReconcileCase;
  action: TableAction;
  /** One line for people reading the docs. */
  meaning: string;
}

const rule = (
  base: ReconcileRule['base'],
  local: LocalState,
  remote: RemoteState,
  kase: ReconcileCase,
  action: TableAction,
  meaning: string,
): ReconcileRule => ({ base, local, remote, case: kase, action, meaning });

/** Every reachable combination, exactly once. */
export const RECONCILE_TABLE: readonly ReconcileRule[] = [
  rule('present', 'unchanged', 'unchanged', 'unchanged', 'nothing', 'in sync'),
  rule('present', 'unchanged', 'new_revision', 'unchanged', 'update_base', 'identical content rewritten remotely; adopt its revision'),
  rule('present', 'changed', 'unchanged', 'local_changed', 'push', 'only local changed'),
  rule('present', 'changed', 'new_revision', 'local_changed', 'push', 'only local changed (remote rewrote identical content)'),
  rule('present', 'unchanged', 'changed', 'remote_changed', 'pull', 'only remote changed'),
  rule('present', 'changed', 'same_as_local', 'both_changed_same', 'update_base', 'both changed to the same content'),
  rule('present', 'changed', 'changed', 'both_changed', 'merge', 'both changed differently: merge by kind'),
  rule('present', 'deleted', 'changed', 'local_deleted_remote_changed', 'pull', 'modification beats deletion: the file comes back'),
  rule('present', 'changed', 'deleted', 'remote_deleted_local_changed', 'push', 'modification beats deletion: local is pushed again'),
  rule('present', 'deleted', 'unchanged', 'local_deleted', 'push', 'local delete is propagated (tombstone)'),
  rule('present', 'deleted', 'new_revision', 'local_deleted', 'push', 'local delete is propagated (remote rewrote identical content)'),
  rule('present', 'unchanged', 'deleted', 'remote_deleted', 'pull', 'remote delete is applied locally'),
  rule('present', 'deleted', 'deleted', 'both_deleted', 'drop_base', 'both deleted: forget the base'),
  rule('absent', 'present', 'absent', 'local_only', 'push', 'new local file'),
  rule('absent', 'absent', 'present', 'remote_only', 'pull', 'new remote file'),
  rule('absent', 'present', 'same_as_local', 'new_both_same', 'update_base', 'created on both sides with the same content'),
  rule('absent', 'present', 'present', 'new_both_different', 'conflict', 'created on both sides differently: no ancestor to merge from'),
  rule('absent', 'absent', 'absent', 'absent', 'nothing', 'nothing anywhere'),
];

/** The cases where both sides changed: the only ones a conflict strategy decides. */
export type ContestedCase = 'both_changed' | 'new_both_different' | 'local_deleted_remote_changed' | 'remote_deleted_local_changed';
export const CONTESTED_CASES: readonly ContestedCase[] = [
  'both_changed',
  'new_both_different',
  'local_deleted_remote_changed',
  'remote_deleted_local_changed',
];

/**
 * Each strategy's action for each contested case; `merge` is RECONCILE_TABLE's.
 * `newest` and `manual` keep "modification beats deletion" (a deletion has no
 * modification time to compare, and keeping the file loses nothing);
 * `local` and `remote` let their side win even over a deletion, keeping the
 * discarded version as a resolved copy.
 */
export const STRATEGY_ACTIONS: Readonly<Record<ConflictStrategy, Readonly<Record<ContestedCase, ReconcileAction>>>> = {
  merge: { both_changed: 'merge', new_both_different: 'conflict', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  newest: { both_changed: 'keep_newest', new_both_different: 'keep_newest', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  local: { both_changed: 'keep_local', new_both_different: 'keep_local', local_deleted_remote_changed: 'keep_local', remote_deleted_local_changed: 'push' },
  remote: { both_changed: 'keep_remote', new_both_different: 'keep_remote', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'keep_remote' },
  manual: { both_changed: 'conflict', new_both_different: 'conflict', local_deleted_remote_changed: 'pull', remote_deleted_local_changed: 'push' },
  'fail-stop': { both_changed: 'hold', new_both_different: 'hold', local_deleted_remote_changed: 'hold', remote_deleted_local_changed: 'hold' },
};

export function isContested(kase: ReconcileCase): kase is ContestedCase {
  return (CONTESTED_CASES as readonly string[]).includes(kase);
}

/** Classifies the three sides into the table's vocabulary. */
export function classify(
  local: LocalSide | null,
  base: BaseSide | null,
  remote: RemoteSide | null,
): { base: ReconcileRule['base']; local: LocalState; remote: RemoteState } {
  if (base === null) {
    const remoteState: RemoteState =
      remote === null ? 'absent' : local !== null && remote.hash === local.hash ? 'same_as_local' : 'present';
    return { base: 'absent', local: local === null ? 'absent' : 'present', remote: remoteState };
  }
  const localState: LocalState = local === null ? 'deleted' : local.hash === base.hash ? 'unchanged' : 'changed';
  return { base: 'present', local: localState, remote: remoteStateWithBase(localState, local, base, remote) };
}

function remoteStateWithBase(
  localState: LocalState,
  local: LocalSide | null,
  base: BaseSide,
  remote: RemoteSide | null,
): RemoteState {
  if (remote === null) return 'deleted';
  if (remote.hash === base.hash) return remote.revision === base.revision ? 'unchanged' : 'new_revision';
  if (localState === 'changed' && local !== null && remote.hash === local.hash) return 'same_as_local';
  return 'changed';
}

/** Decides what to do with one path under its conflict strategy (default `merge`). Exhaustive over RECONCILE_TABLE. */
export function reconcile(local: LocalSide | null, base: BaseSide | null, remote: RemoteSide | null): { action: TableAction; case: ReconcileCase };
export function reconcile(
  local: LocalSide | null,
  base: BaseSide | null,
  remote: RemoteSide | null,
  strategy: ConflictStrategy,
): { action: ReconcileAction; case: ReconcileCase };
export function reconcile(
  local: LocalSide | null,
  base: BaseSide | null,
  remote: RemoteSide | null,
  strategy: ConflictStrategy = 'merge',
): { action: ReconcileAction; case: ReconcileCase } {
  const state = classify(local, base, remote);
  const found = RECONCILE_TABLE.find(
    (r) => r.base === state.base && r.local === state.local && r.remote === state.remote,
  );
  // Unreachable: classify only yields combinations the table lists (a test enumerates them).
  if (found === undefined) throw new Error(`reconcile: no rule for ${JSON.stringify(state)}`);
  const action = isContested(found.case) ? STRATEGY_ACTIONS[strategy][found.case] : found.action;
  return { action, case: found.case };
}
