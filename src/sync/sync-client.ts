/**
 * The sync actor's protocol: the messages it takes (data, one discriminated
 * union each for calls and casts) and the client API that sends them, side
 * by side as in a gen_server module, so the protocol reads in one place.
 * The handlers are in sync-actor.ts; supervisors/scope/scopes.ts builds the
 * public SyncHandle from these functions.
 */
import type { Actor } from '../../supervisors/runtime/actor.js';
import { isScopeFsError } from '../errors.js';
import type { FsEvent } from '../types.js';
import type { ConflictRecord, ConflictResolution, ResyncResult, SyncStatus } from './types.js';

/** Requests that wait for an answer. Reads are calls too: they see the state between two messages, never in the middle of one. */
export type SyncCall =
  | { type: 'status' }
  | { type: 'conflicts' }
  | { type: 'resolve'; path: string; resolution: ConflictResolution }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'confirm' }
  /** A full pass now: every local file and every known path reconciled, as after a restart. */
  | { type: 'resync' }
  /** Answered at once with a promise that settles when sync is idle (a deferred reply, as gen_server's noreply). */
  | { type: 'await_idle' };

/** What each call answers. */
export interface SyncReplies {
  status: SyncStatus;
  conflicts: ConflictRecord[];
  resolve: void;
  pause: void;
  resume: void;
  confirm: void;
  resync: ResyncResult;
  await_idle: { idle: Promise<void> };
}

/** Notifications: the actor's own timers and callbacks, the store's hints, and the filesystem's events. */
export type SyncCast =
  | { type: 'connect' }
  | { type: 'pass' }
  | { type: 'retry_due' }
  /** The store said something changed; `error`: its hint channel broke. */
  | { type: 'hint'; error?: string }
  /** A store call outside a pass failed. */
  | { type: 'store_failed'; reason: string }
  /** A filesystem event (any but snapshots and sync's own writes); what it means for sync is decided in the actor (fs-reaction.ts). */
  | { type: 'fs_event'; event: FsEvent };

export type SyncActor = Actor<SyncCall, SyncCast>;

function call<T extends SyncCall['type']>(actor: SyncActor, message: SyncCall & { type: T }, timeoutMs?: number): Promise<SyncReplies[T]> {
  return actor.call<SyncReplies[T]>(message, timeoutMs === undefined ? {} : { timeoutMs });
}

/** The sync status, as of the last message handled. */
export function status(actor: SyncActor): Promise<SyncStatus> {
  return call(actor, { type: 'status' });
}

/** The open conflicts, oldest first by path. */
export function conflicts(actor: SyncActor): Promise<ConflictRecord[]> {
  return call(actor, { type: 'conflicts' });
}

export function resolveConflict(actor: SyncActor, path: string, resolution: ConflictResolution): Promise<void> {
  return call(actor, { type: 'resolve', path, resolution });
}

export function pause(actor: SyncActor): Promise<void> {
  return call(actor, { type: 'pause' });
}

export function resume(actor: SyncActor): Promise<void> {
  return call(actor, { type: 'resume' });
}

/** Lets a reconciliation held by the safety gate go ahead; EINVAL when the gate holds nothing. */
export function confirm(actor: SyncActor): Promise<void> {
  return call(actor, { type: 'confirm' });
}

/** A full pass over many files may take longer than an ordinary call. */
const RESYNC_TIMEOUT_MS = 10 * 60_000;

/**
 * Runs a full pass now (every local file and every known path), answering
 * once it ran; while the store is unreachable the next pass is made full
 * instead (`ran: false`). EPAUSED while paused: resume or confirm first.
 */
export function resync(actor: SyncActor): Promise<ResyncResult> {
  return call(actor, { type: 'resync' }, RESYNC_TIMEOUT_MS);
}

/**
 * Resolves once nothing is pending and the cursor has reached the store's
 * head, or once this actor stops (the caller then asks the next one). No
 * timeout of its own: the caller bounds the wait.
 */
export async function idle(actor: SyncActor): Promise<void> {
  try {
    const reply = await call(actor, { type: 'await_idle' }, Infinity);
    await reply.idle;
  } catch (err) {
    if (isScopeFsError(err, 'ESTOPPED')) return;
    throw err;
  }
}

/** Hands the actor a filesystem event (the actor's own subscription does this). */
export function fsEvent(actor: SyncActor, event: FsEvent): void {
  actor.cast({ type: 'fs_event', event });
}
