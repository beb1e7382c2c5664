/**
 * What of an applied change becomes history: each file it updates (its new
 * content), deletes, or moves (a deletion at the old path and a version at
 * the new one). Read from the entries right after the change updated them,
 * inside the actor, so content and checksum are the same version's.
 * Changes that came from sync are not recorded here: the instance that made
 * them recorded them in the shared history.
 */
import { sha256 } from '../content.js';
import type { Origin } from '../types.js';
import type { Change } from './change.js';
import { checksumSoon, type Entry, type EntryTable } from './entries.js';
import type { HistoryRecorder } from './history-recorder.js';
import type { JournalOp } from './journal-codec.js';

export function noteChange(recorder: HistoryRecorder, entries: EntryTable, change: Change): void {
  if (change.origin === 'sync') return;
  const at = Date.now();
  for (const intent of change.events) {
    switch (intent.type) {
      case 'file_updated':
        noteEntry(recorder, entries.get(intent.path), change, at);
        break;
      case 'file_deleted':
        noteDeletion(recorder, intent.path, change, at);
        break;
      case 'file_moved':
        noteDeletion(recorder, intent.from, change, at);
        noteEntry(recorder, entries.get(intent.to), change, at);
        break;
    }
  }
}

/** Journal records replayed at start: their final states (recording skips what is already there). */
export function noteReplayed(recorder: HistoryRecorder, records: readonly JournalOp[][]): void {
  const at = Date.now();
  const author = { origin: 'replay' as Origin, actor: undefined, source: undefined };
  for (const record of records) {
    for (const op of record) {
      if (op.op === 'delete') noteDeletion(recorder, op.path, author, at);
      else recorder.note({ path: op.path, content: op.content, hash: sha256(op.content), at, origin: 'replay' });
    }
  }
}

/** A version of a file that is in memory (a moved file whose content was never loaded has none to record). */
function noteEntry(recorder: HistoryRecorder, entry: Entry | undefined, change: Pick<Change, 'origin' | 'actor' | 'source'>, at: number): void {
  if (!entry?.content) return;
  const hash = checksumSoon(entry as Entry & { content: Uint8Array });
  recorder.note({ path: entry.path, content: entry.content, hash, at, origin: change.origin, ...actorOf(change) });
}

function noteDeletion(recorder: HistoryRecorder, path: string, change: Pick<Change, 'origin' | 'actor' | 'source'>, at: number): void {
  recorder.note({ path, content: null, hash: null, at, origin: change.origin, ...actorOf(change) });
}

function actorOf(change: Pick<Change, 'actor' | 'source'>): { actor?: string } {
  const actor = change.actor ?? change.source;
  return actor === undefined ? {} : { actor };
}

/** After a reset: the persisted state each discarded path went back to (its content, or a deletion). */
export async function noteReset(
  recorder: HistoryRecorder,
  paths: readonly string[],
  persisted: (path: string) => Promise<{ content: Uint8Array; checksum: string | undefined } | null>,
): Promise<void> {
  const change = { origin: 'local' as Origin, actor: 'reset', source: undefined };
  for (const path of paths) {
    const entry = await persisted(path);
    const at = Date.now();
    if (!entry) noteDeletion(recorder, path, change, at);
    else recorder.note({ path, content: entry.content, hash: entry.checksum ?? sha256(entry.content), at, origin: 'local', actor: 'reset' });
  }
}
