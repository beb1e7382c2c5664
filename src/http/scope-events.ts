import type { SyncEvent } from '../sync/types.js';
import type { FsEvent, ScopeHandle } from '../types.js';

/** Every event a scope emits: file changes, sync events and stored records, each tagged by `type`. */
export type ScopeEvent = Exclude<FsEvent, { type: 'snapshot' }> | SyncEvent | import('../tail/tailer.js').RecordsEvent;

export type ScopeEventType = ScopeEvent['type'];

/** Listens to a scope's file and sync events as one stream. Returns the unsubscribe function. */
export function subscribeScopeEvents(
  scope: Pick<ScopeHandle, 'fs' | 'sync' | 'records'>,
  listener: (event: ScopeEvent) => void,
): () => void {
  const offFs = scope.fs.subscribe((event) => {
    if (event.type !== 'snapshot') listener(event);
  });
  const offSync = scope.sync?.subscribe(listener);
  const offRecords = scope.records?.subscribe(listener);
  return () => {
    offFs();
    offSync?.();
    offRecords?.();
  };
}
