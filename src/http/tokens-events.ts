/**
 * What a limited grant may see of an event (pure). An event about a path
 * outside the grant is not sent; a move across the grant's edge is seen as
 * what it is from inside: a file that appeared (moved in) or went away
 * (moved out). Events that name no path (sync state changes) are sent.
 */
import type { EntryMeta, FsEvent } from '../types.js';
import { checkGrant, type Grant } from './tokens-grant.js';

type AnyEvent = { type: string } & Record<string, unknown>;

/** The event as the grant may see it, or undefined when it must not be sent. */
export function eventForGrant<E extends { type: string }>(grant: Grant, event: E): E | undefined {
  const seen = visibleEvent(grant, event as unknown as AnyEvent);
  return seen as unknown as E | undefined;
}

function visibleEvent(grant: Grant, event: AnyEvent): AnyEvent | undefined {
  const readable = (path: unknown) => typeof path === 'string' && checkGrant(grant, 'read', path).allowed;
  switch (event.type) {
    case 'file_moved':
      return movedAcrossGrant(event, readable(event.from), readable(event.to));
    case 'snapshot':
      return { ...event, entries: (event.entries as EntryMeta[]).filter((entry) => readable(entry.path)) };
    case 'conflict':
      return readable((event.conflict as { path: string }).path) ? event : undefined;
    case 'path_held':
      return readable((event.held as { path: string }).path) ? event : undefined;
    case 'records':
      return undefined; // records may come from any file (or from outside the scope): the owner's only
  }
  for (const field of ['path', 'from', 'to', 'copyPath']) {
    if (field in event && !readable(event[field])) return undefined;
  }
  if (Array.isArray(event.paths)) {
    const paths = (event.paths as unknown[]).filter(readable);
    return paths.length === 0 ? undefined : { ...event, paths };
  }
  return event;
}

function movedAcrossGrant(event: AnyEvent, fromSeen: boolean, toSeen: boolean): AnyEvent | undefined {
  const moved = event as unknown as Extract<FsEvent, { type: 'file_moved' }>;
  const author = { origin: moved.origin, source: moved.source, actor: moved.actor };
  if (fromSeen && toSeen) return event;
  if (fromSeen) return { type: 'file_deleted', path: moved.from, revision: moved.meta.revision, ...author };
  if (toSeen) return { type: 'file_updated', path: moved.to, meta: moved.meta, created: true, ...author };
  return undefined;
}
