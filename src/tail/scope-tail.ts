/**
 * A scope's tailing: the sources (its `tail` option and sync-config.json's
 * `tail` list), the records tables, the tail actor as a child of the scope
 * tree, and the handles the scope exposes (`records`, `tail`). The actor is
 * restarted by the tree; the tables and listeners outlive it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { ScopeFsError, errorMessage } from '../errors.js';
import type { RecordQuery, RecordSearch, StoredRecord } from '../../persistence/records/types.js';
import { checkCursor } from '../../persistence/records/record-rows.js';
import { resolveSources, settingsOf, type ResolvedSource, type TailOption } from './config.js';
import { Tailer, type RecordsEvent, type TailStatus } from './tailer.js';

export type { RecordsEvent, TailStatus } from './tailer.js';

/** The scope's records: what its tail sources (or another instance's, through the store) stored. */
export interface ScopeRecords {
  /** Records after the cursor (0: from the first), ascending; `cursor` is where to continue from. */
  since(cursor: number, query?: RecordQuery): Promise<{ records: StoredRecord[]; cursor: number }>;
  /** Records whose line contains the text, newest first. */
  search(search: RecordSearch): Promise<StoredRecord[]>;
  /** Told whenever this scope's tailing stored records. */
  subscribe(listener: (event: RecordsEvent) => void): () => void;
}

/** The tail's status, with what was wrong in sync-config.json's tail list. */
export type TailReport = TailStatus & { configErrors: string[] };

export interface ScopeTailHandle {
  /** Per source: files, offsets, lag in bytes and ms, errors; and the backfill's progress. */
  status(): TailReport;
  /** Reads the files never read yet (older than the start's bound), newest first; resolves with how many. */
  backfill(options?: { source?: string; limit?: number }): Promise<number>;
}

export interface ScopeTailParts {
  records: ScopeRecords;
  tail: ScopeTailHandle;
  /** The tail actor's start function for the scope tree; undefined when there is nothing to tail. */
  start: (() => Promise<Tailer>) | undefined;
}

export interface RecordTables {
  app: string;
  records: import('../../persistence/records/types.js').StoreRecords;
  offsets: import('../../persistence/records/types.js').TailOffsets;
}

export function scopeTail(option: TailOption | undefined, root: string | undefined, tables: RecordTables): ScopeTailParts {
  const settings = settingsOf(option);
  // The operator's option is checked at start (a bad one fails the start); sync-config.json's only reported.
  const sources = resolveSources(settings.sources, root);
  const configErrors: string[] = [];
  for (const source of configSources(root, configErrors)) {
    if (sources.some((s) => s.name === source.name)) configErrors.push(`sync-config.json tail: ${source.name} is also in the tail option; the option's is used`);
    else sources.push(source);
  }
  const events = new EventEmitter<{ records: [RecordsEvent] }>();
  let current: Tailer | undefined;
  const records: ScopeRecords = {
    since: async (cursor, query) => {
      const rows = await tables.records.since(tables.app, checkCursor(cursor), query);
      return { records: rows, cursor: rows.at(-1)?.seq ?? cursor };
    },
    search: (search) => tables.records.search(tables.app, search),
    subscribe: (listener) => {
      events.on('records', listener);
      return () => events.off('records', listener);
    },
  };
  const tail: ScopeTailHandle = {
    status: () => ({ ...(current?.status() ?? { sources: [], backfill: { running: false, files: 0, done: 0 } }), configErrors: [...configErrors] }),
    backfill: async (options) => {
      if (!current || current.actor.status !== 'running') throw new ScopeFsError('ESTOPPED', 'the tail actor is not running (no tail sources, or it is restarting)');
      if (options?.source !== undefined && !sources.some((s) => s.name === options.source)) throw new ScopeFsError('ENOENT', `no tail source is named ${JSON.stringify(options.source)}`);
      return current.backfill(options);
    },
  };
  const start =
    sources.length === 0
      ? undefined
      : async () => {
          current = await Tailer.start({
            ...tables,
            sources,
            root,
            backfillFiles: settings.backfillFiles,
            maxLineBytes: settings.maxLineBytes,
            rescanMs: settings.rescanMs,
            onRecords: (event) => events.emit('records', event),
          });
          return current;
        };
  return { records, tail, start };
}

/** The `tail` list of `<root>/sync-config.json`: inside-the-scope sources only. */
function configSources(root: string | undefined, errors: string[]): ResolvedSource[] {
  if (!root) return [];
  let list: unknown;
  try {
    list = (JSON.parse(readFileSync(join(root, 'sync-config.json'), 'utf8')) as { tail?: unknown }).tail;
  } catch {
    return []; // no file, or not JSON: the sync engine reports a broken config
  }
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    errors.push('sync-config.json: tail must be a list of sources');
    return [];
  }
  return resolveSources(list, root, true, (err) => errors.push(errorMessage(err)));
}
