import type { SyncEvent } from '../sync/types.js';
import type { FsEvent, ScopeHandle } from '../types.js';

/** Every event a scope emits: file changes and sync events, each tagged by `type`. */
export type ScopeEvent = Exclude<FsEvent, { type: 'snapshot' }> | SyncEvent;

export type ScopeEventType = ScopeEvent['type'];

/** Listens to a scope's file and sync events as one stream. Returns the unsubscribe function. */
export function subscribeScopeEvents(
  scope: Pick<ScopeHandle, 'fs' | 'sync'>,
  listener: (event: ScopeEvent) => void,
): () => void {
  const offFs = scope.fs.subscribe((event) => {
    if (event.type !== 'snapshot') listener(event);
  });
  const offSync = scope.sync?.subscribe(listener);
  return () => {
    offFs();
    offSync?.();
  };
}
