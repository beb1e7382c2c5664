/**
 * The sync engine's whole decision for one path, as data: the sync side of
 * what `planDisk` (src/fs/disk-plan.ts) is for the disk. `reconcile()` names
 * the case from hashes alone; `planSyncPath` takes that action and the values
 * gathered for it (the local content, the store's current row, the base
 * content) and returns the concrete changes: what to write or delete
 * locally, what to push, what agreement (base) to record, what conflict to
 * open, or that the path must be decided again. Pure: path-actions.ts reads
 * the inputs `inputsFor` asks for and carries the plan out in a fixed order
 * (see SyncPlan), making no further choices. The path's conflict strategy
 * is part of the decision: reconcile() turns it into the action, and the
 * `keep_*` actions here into which side stays and which becomes a resolved copy.
 */
import type { PushChange, StoreRow } from '../../persistence/stores/types.js';
import { isUtf8, sha256 } from '../content.js';
import { fsErrors, type ScopeFsError } from '../errors.js';
import { mergeContent } from './merge/index.js';
import type { ReconcileAction, ReconcileCase } from './reconcile.js';
import { localIsNewer, type AppliedRule } from './strategies.js';

/** The agreement part of a path's record: the base and what the engine last saw of the store. */
export interface RecordSides {
  baseHash: string | null;
  baseRevision: number;
  remoteHash: string | null;
  remoteRevision: number;
}

/** The local file as the plan sees it. `content`: undefined = not read; null = vanished while being read. */
export interface LocalFacts {
  hash: string;
  /** The FileSystemServer revision: local writes are conditional on it. */
  revision: number;
  content?: Uint8Array | null;
  /** When the local file was last modified (ms): the `newest` strategy compares it. */
  modifiedAt?: number;
}

export interface PathFacts {
  path: string;
  owner: string;
  /** reconcile()'s action for the path, and the case it named. */
  action: ReconcileAction;
  case: ReconcileCase;
  /** The conflict-strategy rule that applied to the path. */
  rule: AppliedRule;
  /** This instance's id: `newest` breaks a tie of modification times with it. */
  instanceId: string;
  /** The record the action was decided on. */
  record: RecordSides;
  local: LocalFacts | null;
  /** The store's row for the path (null: none), read when `inputsFor` asks for the remote side. */
  remote?: StoreRow | null;
  /** The base's content, when kept (text), read when `inputsFor` asks for it. */
  baseContent?: Uint8Array | null;
  maxFileBytes: number;
}

/** What the code carrying out a plan reads before planning. */
export interface NeededInputs {
  localContent: boolean;
  remote: boolean;
  baseContent: boolean;
}

export type LocalChange =
  | { kind: 'write'; content: Uint8Array; ifRevision: number; source?: string }
  | { kind: 'delete'; ifRevision: number; source?: string };

/** Sides to record, and the content to keep as a merge base (text only). */
export interface Agreement {
  sides: RecordSides;
  blob?: { hash: string; content: Uint8Array };
}

export interface ConflictToOpen {
  local: Uint8Array;
  remote: Uint8Array;
  remoteRevision: number;
  remoteInstance: string;
  /** The rule whose strategy left the conflict open (merge that failed, or manual). */
  rule: AppliedRule;
}

/** A rule chose one side: the other is kept as a resolved copy beside the file. */
export interface Resolution {
  kept: 'local' | 'remote';
  /** The discarded side's content, and the instance whose content it is. */
  discarded: Uint8Array;
  discardedInstance: string;
  rule: AppliedRule;
  case: ReconcileCase;
}

/**
 * One path's plan. Carried out in this order: record `observed`; keep the
 * discarded side of a `resolution`; open `conflict`; apply `local`; record
 * `agree`; fail with `refused`; hand back `push` (pushes are batched). A
 * local change made before a refusal stands: a merge is kept locally even
 * when it is too large to push. `held`: a fail-stop rule holds the path;
 * nothing else is done.
 */
export interface SyncPlan {
  /** The store moved on since the decision: record this row as the remote side (then `retry`). */
  observed?: { row: StoreRow | null };
  resolution?: Resolution;
  held?: { rule: AppliedRule; case: ReconcileCase };
  conflict?: ConflictToOpen;
  local?: LocalChange;
  agree?: Agreement;
  /** The path fails with this error (the failure log retries it later). */
  refused?: ScopeFsError;
  push?: PushChange;
  /** The remote version was applied locally (reported as synced by pull). */
  pulled: boolean;
  /** Decide the path again in the next pass. */
  retry: boolean;
}

const NOTHING: SyncPlan = { pulled: false, retry: false };
const RETRY: SyncPlan = { pulled: false, retry: true };

export function inputsFor(action: ReconcileAction): NeededInputs {
  switch (action) {
    case 'nothing':
    case 'drop_base':
      return { localContent: false, remote: false, baseContent: false };
    case 'update_base':
    case 'push':
      return { localContent: true, remote: false, baseContent: false };
    case 'pull':
      return { localContent: false, remote: true, baseContent: false };
    case 'merge':
      return { localContent: true, remote: true, baseContent: true };
    case 'conflict':
    case 'keep_local':
    case 'keep_remote':
    case 'keep_newest':
      return { localContent: true, remote: true, baseContent: false };
    case 'hold':
      return { localContent: false, remote: false, baseContent: false };
  }
}

export function planSyncPath(facts: PathFacts): SyncPlan {
  const { record, local } = facts;
  switch (facts.action) {
    case 'nothing':
      return NOTHING;
    case 'drop_base':
      // Both sides deleted: nothing is left to agree on.
      return { ...NOTHING, agree: agreement(record, null, 0, null) };
    case 'update_base': {
      // Both sides hold the local hash: record it, under the remote revision.
      const content = local?.content;
      if (!local || !content) return RETRY; // the file vanished since the decision
      return { ...NOTHING, agree: agreement(record, local.hash, record.remoteRevision, content) };
    }
    case 'push':
      // Only local changed (or remote was deleted and local changed): send local, based on the revision last seen.
      return planPush(facts, record.remoteRevision, local?.content);
    case 'pull':
      return planPull(facts);
    case 'merge':
    case 'conflict':
      return planBothChanged(facts);
    case 'keep_local':
    case 'keep_remote':
    case 'keep_newest':
      return planKeepSide(facts);
    case 'hold':
      return { ...NOTHING, held: { rule: facts.rule, case: facts.case } };
  }
}

/** Whether the row read now is the one the decision was made on. */
export function remoteIsCurrent(record: RecordSides, row: StoreRow | null): boolean {
  return (row?.revision ?? 0) === record.remoteRevision || (row === null && record.remoteHash === null);
}

/**
 * What recording agreement on (hash, revision) does to a record: base and
 * remote side both become it. A deletion (hash null) keeps the remote
 * revision last seen unless a newer one is given.
 */
export function agreement(record: RecordSides, hash: string | null, revision: number, content: Uint8Array | null): Agreement {
  const sides: RecordSides = {
    baseHash: hash,
    baseRevision: hash === null ? 0 : revision,
    remoteHash: hash,
    remoteRevision: hash !== null || revision > 0 ? revision : record.remoteRevision,
  };
  // Only text can be merged later, so only text bases are worth keeping.
  const keep = hash !== null && content !== null && isUtf8(content);
  return keep ? { sides, blob: { hash, content } } : { sides };
}

function planPush(facts: PathFacts, baseRevision: number, content: Uint8Array | null | undefined, merged?: Partial<SyncPlan>): SyncPlan {
  const { path, owner } = facts;
  const plan = { ...NOTHING, ...merged };
  if (facts.local === null) return { ...plan, push: { owner, path, baseRevision, content: null, hash: null } };
  if (!content) return { ...plan, retry: true }; // the file vanished since the decision
  if (content.byteLength > facts.maxFileBytes) return { ...plan, refused: fsErrors.tooBig(path, content.byteLength, facts.maxFileBytes) };
  // The hash of the bytes read, which may be newer than the decision's: they are what is pushed.
  return { ...plan, push: { owner, path, baseRevision, content, hash: sha256(content) } };
}

function planPull(facts: PathFacts): SyncPlan {
  const { record, local } = facts;
  const remote = facts.remote ?? null;
  if (!remoteIsCurrent(record, remote)) return { ...RETRY, observed: { row: remote } };
  if (remote === null || remote.deleted) {
    // Remote deleted, local unchanged (or already gone): delete locally, if still at the revision decided on.
    const local_: LocalChange | undefined = local ? { kind: 'delete', ifRevision: local.revision, source: remote?.updatedBy } : undefined;
    const agree = agreement(record, null, remote?.revision ?? record.remoteRevision, null);
    return { ...NOTHING, pulled: true, agree, ...(local_ ? { local: local_ } : {}) };
  }
  const verified = verifyRemote(remote, facts.maxFileBytes);
  if (verified instanceof Error) return { ...NOTHING, refused: verified };
  // Remote changed, local did not (or was deleted: modification beats deletion).
  return {
    ...NOTHING,
    pulled: true,
    local: { kind: 'write', content: verified, ifRevision: local?.revision ?? 0, source: remote.updatedBy },
    agree: agreement(record, remote.hash, remote.revision, verified),
  };
}

/** Both sides changed differently (or were created differently): merge by kind, else open a conflict. */
function planBothChanged(facts: PathFacts): SyncPlan {
  const { record, local, path } = facts;
  const remote = facts.remote ?? null;
  if (!remoteIsCurrent(record, remote)) return { ...RETRY, observed: { row: remote } };
  // The table only merges two present sides; anything else means the state moved under us.
  if (remote === null || remote.deleted || local === null) return RETRY;
  const remoteContent = verifyRemote(remote, facts.maxFileBytes);
  if (remoteContent instanceof Error) return { ...NOTHING, refused: remoteContent };
  const localContent = local.content;
  if (!localContent) return RETRY;
  const base = facts.baseContent ?? null;
  const result = facts.action === 'merge' && base !== null ? mergeContent({ path, base, local: localContent, remote: remoteContent }) : null;
  // The remote version becomes the base either way: the outcome (merge or
  // resolution) is then an ordinary local change, pushed with compare-and-swap on this revision.
  const agreeRemote = agreement(record, remote.hash, remote.revision, remoteContent);
  if (result?.status !== 'merged') {
    // No ancestor, binary, or overlapping edits: local stays, the remote version goes to a copy.
    const conflict = { local: localContent, remote: remoteContent, remoteRevision: remote.revision, remoteInstance: remote.updatedBy, rule: facts.rule };
    return { ...NOTHING, conflict, agree: agreeRemote };
  }
  const mergedHash = sha256(result.content);
  const write: Partial<SyncPlan> =
    mergedHash === local.hash ? {} : { local: { kind: 'write', content: result.content, ifRevision: local.revision } };
  // The merge is the remote version (local added nothing): adopt it, nothing to push.
  if (mergedHash === remote.hash) return { ...NOTHING, ...write, pulled: true, agree: agreeRemote };
  // The merge holds local work the store lacks: push it on top of the remote revision.
  return planPush(facts, remote.revision, result.content, write);
}

/**
 * A rule chose a side (`local`, `remote`, or `newest` by modification time):
 * the winner holds the path on both sides, the loser is kept as a resolved
 * copy. The remote version becomes the base either way, so a winning local
 * side is an ordinary change pushed on top of it.
 */
function planKeepSide(facts: PathFacts): SyncPlan {
  const { record, local } = facts;
  const remote = facts.remote ?? null;
  if (!remoteIsCurrent(record, remote)) return { ...RETRY, observed: { row: remote } };
  const remoteContent = remote === null || remote.deleted ? null : verifyRemote(remote, facts.maxFileBytes);
  if (remoteContent instanceof Error) return { ...NOTHING, refused: remoteContent };
  const localContent = local === null ? null : local.content;
  if (localContent === undefined || (local !== null && localContent === null)) return RETRY; // vanished since the decision
  const sides = { local, localContent, remote, remoteContent };
  return keptSide(facts, local, remote) === 'local' ? planKeepLocal(facts, sides) : planKeepRemote(facts, sides);
}

interface KeptSides {
  local: LocalFacts | null;
  localContent: Uint8Array | null;
  remote: StoreRow | null;
  remoteContent: Uint8Array | null;
}

/** Local wins: the remote version is the resolved copy and the new base; local (or its deletion) is pushed on it. */
function planKeepLocal(facts: PathFacts, { localContent, remote, remoteContent }: KeptSides): SyncPlan {
  // The table keeps local over a live remote only: anything else means the state moved under us.
  if (remote === null || remoteContent === null) return RETRY;
  const agree = agreement(facts.record, remote.hash, remote.revision, remoteContent);
  const resolution = resolutionOf(facts, 'local', remoteContent, remote.updatedBy);
  return planPush(facts, remote.revision, localContent, { agree, resolution });
}

/** Remote wins: the local file is the resolved copy; the remote version (or its deletion) is applied locally. */
function planKeepRemote(facts: PathFacts, { local, localContent, remote, remoteContent }: KeptSides): SyncPlan {
  // The table keeps remote over a present local file only.
  if (local === null || localContent === null) return RETRY;
  const discarded = { resolution: resolutionOf(facts, 'remote', localContent, facts.instanceId), pulled: true };
  if (remote === null || remote.deleted || remoteContent === null) {
    const agree = agreement(facts.record, null, remote?.revision ?? facts.record.remoteRevision, null);
    return { ...NOTHING, ...discarded, agree, local: { kind: 'delete', ifRevision: local.revision, source: remote?.updatedBy } };
  }
  return {
    ...NOTHING,
    ...discarded,
    local: { kind: 'write', content: remoteContent, ifRevision: local.revision, source: remote.updatedBy },
    agree: agreement(facts.record, remote.hash, remote.revision, remoteContent),
  };
}

function resolutionOf(facts: PathFacts, kept: Resolution['kept'], discarded: Uint8Array, discardedInstance: string): Resolution {
  return { kept, discarded, discardedInstance, rule: facts.rule, case: facts.case };
}

/** Which side a `keep_*` action keeps; `newest` compares the local mtime with the row's time in the store. */
function keptSide(facts: PathFacts, local: LocalFacts | null, remote: StoreRow | null): 'local' | 'remote' {
  if (facts.action === 'keep_local') return 'local';
  if (facts.action === 'keep_remote' || local === null || remote === null) return 'remote';
  const localStamp = { modifiedAt: local.modifiedAt ?? 0, instance: facts.instanceId };
  return localIsNewer(localStamp, { modifiedAt: remote.updatedAt, instance: remote.updatedBy }) ? 'local' : 'remote';
}

/** A remote row's content, checked against its hash and the size limit; the refusal otherwise. */
function verifyRemote(row: StoreRow, maxFileBytes: number): Uint8Array | ScopeFsError {
  const content = row.content;
  if (!(content instanceof Uint8Array) || sha256(content) !== row.hash) {
    return fsErrors.invalid(`remote row for ${JSON.stringify(row.path)} has content that does not match its hash`, row.path);
  }
  if (content.byteLength > maxFileBytes) return fsErrors.tooBig(row.path, content.byteLength, maxFileBytes);
  return content;
}
