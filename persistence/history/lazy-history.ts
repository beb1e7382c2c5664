/**
 * A history whose connection is opened on first use, and opened again on
 * the next call after a failed open. A scope must start while its store is
 * unreachable (it works offline and catches up later), so its history
 * cannot be opened at start: the recorder's batches wait and retry until
 * the store answers.
 */
import type { HistoryStore } from './types.js';

export interface OpenedHistory {
  history: HistoryStore;
  /** Closes what was opened for it (the history, and a connection of its own). */
  close(): Promise<void>;
}

type Method = Exclude<keyof HistoryStore, 'close'>;

export function lazyHistory(open: () => Promise<OpenedHistory>): HistoryStore {
  let opening: Promise<OpenedHistory> | undefined;
  const opened = (): Promise<OpenedHistory> => {
    opening ??= open().catch((err: unknown) => {
      opening = undefined; // the next call tries again
      throw err;
    });
    return opening;
  };
  const forward =
    <M extends Method>(method: M) =>
    async (...args: Parameters<HistoryStore[M]>): Promise<Awaited<ReturnType<HistoryStore[M]>>> => {
      const { history } = await opened();
      return (history[method] as (...a: Parameters<HistoryStore[M]>) => Promise<Awaited<ReturnType<HistoryStore[M]>>>)(...args);
    };
  return {
    record: forward('record'),
    versions: forward('versions'),
    version: forward('version'),
    content: forward('content'),
    contents: forward('contents'),
    deleted: forward('deleted'),
    saveCheckpoint: forward('saveCheckpoint'),
    checkpoint: forward('checkpoint'),
    listCheckpoints: forward('listCheckpoints'),
    deleteCheckpoint: forward('deleteCheckpoint'),
    prune: forward('prune'),
    storedBytes: forward('storedBytes'),
    async close() {
      const current = opening;
      opening = undefined;
      if (!current) return;
      await current.then((o) => o.close(), () => undefined);
    },
  };
}
