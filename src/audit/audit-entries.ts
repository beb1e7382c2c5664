/**
 * What becomes an audit entry, as pure functions: a filesystem event (a
 * change that was applied), or a request that was refused. The recorder
 * stamps id and time.
 */
import { isScopeFsError } from '../errors.js';
import type { SyncEvent } from '../sync/types.js';
import type { FsEvent } from '../types.js';
import type { AuditEntry } from './types.js';

export type AuditDraft = Omit<AuditEntry, 'id' | 'at'>;

/** The entry of an applied change; undefined for events that change nothing (snapshots, alerts). */
export function draftOfEvent(event: FsEvent): AuditDraft | undefined {
  switch (event.type) {
    case 'file_updated':
      return withSource(event, { actor: actorOf(event), operation: event.created ? 'create' : 'write', paths: [event.path], revision: event.meta.revision, result: 'ok' });
    case 'file_deleted':
      return withSource(event, { actor: actorOf(event), operation: 'delete', paths: [event.path], revision: event.revision, result: 'ok' });
    case 'file_moved':
      return withSource(event, { actor: actorOf(event), operation: 'move', paths: [event.from, event.to], revision: event.meta.revision, result: 'ok' });
    default:
      return undefined;
  }
}

/**
 * The entry of a sync decision that settled or held a path by its conflict
 * strategy (changes it made are recorded by their own events); undefined for
 * every other sync event.
 */
export function draftOfSyncEvent(event: SyncEvent): AuditDraft | undefined {
  switch (event.type) {
    case 'strategy_applied':
      return {
        actor: 'sync',
        operation: 'resolve',
        paths: [event.path, event.resolvedCopy],
        result: 'ok',
        message: `${event.strategy} (${event.rule}) kept the ${event.kept} side of ${event.case}; the other side is kept in ${event.resolvedCopy}`,
      };
    case 'path_held':
      return {
        actor: 'sync',
        operation: 'hold',
        paths: [event.held.path],
        result: 'ok',
        message: `${event.held.strategy} (${event.held.rule}) holds it (${event.held.case}): resolve it to let sync go on`,
      };
    default:
      return undefined;
  }
}

type ChangeEvent = Extract<FsEvent, { type: 'file_updated' | 'file_deleted' | 'file_moved' }>;

/** The actor a change names, else where it came from: `disk`, `sync`, `replay`, or `local`. */
function actorOf(event: ChangeEvent): string {
  if (event.actor !== undefined) return event.actor;
  return event.origin;
}

function withSource(event: ChangeEvent, draft: AuditDraft): AuditDraft {
  if (event.source !== undefined) draft.source = event.source;
  return draft;
}

/** Operations that change files: any typed failure of theirs is a refusal. */
const MUTATIONS = new Set(['write', 'append', 'edit', 'delete', 'move', 'batch', 'restore', 'restore_checkpoint', 'lock', 'unlock']);

/**
 * The entry of a refused request, or undefined when `err` is no refusal: a
 * typed error of a mutation, or an access refusal (EACCES) of a read. A
 * read that finds nothing (ENOENT) is an answer, not a refusal.
 */
export function draftOfRefusal(operation: string, paths: string[], actor: string, err: unknown): AuditDraft | undefined {
  if (!isScopeFsError(err)) return undefined;
  if (!MUTATIONS.has(operation) && err.code !== 'EACCES') return undefined;
  return { actor, operation, paths, result: 'refused', code: err.code, message: err.message };
}
