/**
 * What one filesystem event means for sync, as data. The sync actor hears
 * every event as one cast (`fs_event`) and carries out the reaction this
 * pure function returns, in the order of its fields.
 */
import type { FsEvent } from '../types.js';
import { SYNC_CONFIG_PATH } from './sync-target.js';

/** What the reaction needs to know of the engine's state when the event is handled. */
export interface FsEventView {
  /** Whether the path takes part in sync. */
  syncs(path: string): boolean;
  /** Whether the path is the copy of an open conflict. */
  isConflictCopy(path: string): boolean;
}

export interface FsReaction {
  /** A file moved: the conflicts recorded for it follow it. */
  moved?: { from: string; to: string };
  /** A conflict copy was deleted: that resolves its conflict. */
  copyDeleted?: string;
  /** An outside edit could not be merged and was kept as a copy: a conflict that holds the path (before it could be pushed). */
  diskConflict?: { path: string; copyPath: string };
  /** sync-config.json changed: reload it. */
  configChanged: boolean;
  /** Paths whose failures get a new chance (they changed). */
  wake: string[];
  /** Synced paths that changed locally: reconcile them soon. */
  changed: string[];
  /** The batch the change was part of: its paths are pushed together, all or none. */
  batch?: string;
  /** The failure log took a note of the event (a disk conflict or alert): rewrite the status files. */
  statusChanged: boolean;
}

/**
 * Whether sync hears the event at all: snapshots and the echoes of its own
 * writes never reach its mailbox (a pull of 10,000 files would otherwise queue
 * 10,000 messages that change nothing).
 */
export function heardBySync(event: FsEvent): event is Exclude<FsEvent, { type: 'snapshot' }> {
  return event.type !== 'snapshot' && event.origin !== 'sync';
}

/** The reaction to one event; null when sync has nothing to do with it (a snapshot, or sync's own write). */
export function reactionTo(event: FsEvent, view: FsEventView): FsReaction | null {
  if (!heardBySync(event)) return null;
  const paths = event.type === 'file_moved' ? [event.from, event.to] : [event.path];
  return {
    ...(event.type === 'file_moved' ? { moved: { from: event.from, to: event.to } } : {}),
    ...(event.type === 'file_deleted' && view.isConflictCopy(event.path) ? { copyDeleted: event.path } : {}),
    ...(event.type === 'disk_conflict' ? { diskConflict: { path: event.path, copyPath: event.copyPath } } : {}),
    configChanged: paths.includes(SYNC_CONFIG_PATH),
    wake: paths,
    changed: paths.filter((path) => view.syncs(path)),
    ...(event.type !== 'disk_conflict' && event.type !== 'disk_alert' && event.batch !== undefined ? { batch: event.batch } : {}),
    statusChanged: event.type === 'disk_conflict' || event.type === 'disk_alert',
  };
}
