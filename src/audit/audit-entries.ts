/**
 * What becomes an audit entry, as pure functions: a change about to be
 * applied (who, which paths, which revisions: the actor a change names, else
 * where it came from, `disk`, `sync` or `local`), a sync decision, or a
 * request that was refused. The recorder stamps id and time.
 */
import { isScopeFsError } from '../errors.js';
import type { SyncEvent } from '../sync/types.js';
import { revisionIn, type Change, type EventIntent } from '../fs/change.js';
import type { AuditEntry } from './types.js';

export type AuditDraft = Omit<AuditEntry, 'id' | 'at'>;

/** What the recorder gives each entry of a change: a fresh id, the time, the instance when syncing. */
export interface EntryStamp {
  nextId(): string;
  at: number;
  instance: string | undefined;
}

/**
 * The entries of a change about to be applied, one per event it will emit
 * (snapshots and alerts change nothing and are not changes). Its revisions
 * are assigned already (change.ts), so each entry names the one it produces.
 * Made whole, each in one literal: this runs on every change.
 */
export function entriesOfChange(change: Change, stamp: EntryStamp): AuditEntry[] {
  const actor = change.actor ?? change.origin;
  const entries: AuditEntry[] = [];
  for (const intent of change.events) {
    const entry = entryOfIntent(change, intent, actor, stamp);
    if (change.source !== undefined) entry.source = change.source;
    if (stamp.instance !== undefined) entry.instance = stamp.instance;
    entries.push(entry);
  }
  return entries;
}

function entryOfIntent(change: Change, intent: EventIntent, actor: string, { nextId, at }: EntryStamp): AuditEntry {
  switch (intent.type) {
    case 'file_updated':
      return { id: nextId(), at, actor, operation: intent.created ? 'create' : 'write', paths: [intent.path], result: 'ok', revision: revisionIn(change, intent.path) };
    case 'file_deleted':
      return { id: nextId(), at, actor, operation: 'delete', paths: [intent.path], result: 'ok', revision: intent.revision };
    case 'file_moved':
      return { id: nextId(), at, actor, operation: 'move', paths: [intent.from, intent.to], result: 'ok', revision: revisionIn(change, intent.to) };
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
