/**
 * Records in PostgreSQL or Supabase: each operation is one call of a
 * function of persistence/sql/migrations/008_records.sql (the upsert numbers
 * records under the app's head row lock, so concurrent instances neither
 * duplicate a key nor let a reader skip a seq). The caller says how a
 * function is called (node-postgres or Supabase RPC), as for the locks.
 */
import { ScopeFsError } from '../../src/errors.js';
import { checkCursor, checkSearch, fromRow, sinceLimit, toWire, type RecordRow } from './record-rows.js';
import type { RecordInput, RecordQuery, RecordSearch, StoredRecord, StoreRecords } from './types.js';

export const RECORD_FUNCTIONS = {
  scopefs_records_upsert: [['p_app', 'text'], ['p_records', 'jsonb']],
  scopefs_records_since: [['p_app', 'text'], ['p_cursor', 'bigint'], ['p_source', 'text'], ['p_file', 'text'], ['p_limit', 'integer']],
  scopefs_records_search: [['p_app', 'text'], ['p_text', 'text'], ['p_source', 'text'], ['p_limit', 'integer']],
  scopefs_records_head: [['p_app', 'text']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type RecordFunction = keyof typeof RECORD_FUNCTIONS;
export type RecordCall = (fn: RecordFunction, args: Record<string, unknown>) => Promise<unknown>;

/** `SELECT public.fn(p_a => $1::text, …) AS result`, for node-postgres. */
export function recordCallSql(fn: RecordFunction): string {
  const args = RECORD_FUNCTIONS[fn].map(([name, type], i) => `${name} => $${i + 1}::${type}`);
  return `SELECT public.${fn}(${args.join(', ')}) AS result`;
}

export function recordCallValues(fn: RecordFunction, args: Record<string, unknown>): unknown[] {
  return RECORD_FUNCTIONS[fn].map(([name, type]) => {
    const value = args[name] ?? null;
    return type === 'jsonb' && value !== null ? JSON.stringify(value) : value;
  });
}

/** Records per call: a bigger batch is sent in parts (each part still exactly once). */
const BATCH = 500;

export class SqlRecords implements StoreRecords {
  constructor(private readonly call: RecordCall) {}

  async upsert(app: string, records: readonly RecordInput[]): Promise<{ inserted: number; head: number }> {
    if (records.length === 0) return { inserted: 0, head: await this.head(app) };
    let inserted = 0;
    let head = 0;
    for (let i = 0; i < records.length; i += BATCH) {
      const raw = (await this.call('scopefs_records_upsert', { p_app: app, p_records: records.slice(i, i + BATCH).map(toWire) })) as
        | { inserted?: unknown; head?: unknown }
        | null;
      if (typeof raw?.inserted !== 'number') throw malformed(raw);
      inserted += raw.inserted;
      head = Number(raw.head);
    }
    return { inserted, head };
  }

  async since(app: string, cursor: number, query?: RecordQuery): Promise<StoredRecord[]> {
    const raw = await this.call('scopefs_records_since', {
      p_app: app, p_cursor: checkCursor(cursor), p_source: query?.source ?? null, p_file: query?.file ?? null, p_limit: sinceLimit(query),
    });
    return rowsOf(raw);
  }

  async search(app: string, search: RecordSearch): Promise<StoredRecord[]> {
    const { text, limit } = checkSearch(search);
    return rowsOf(await this.call('scopefs_records_search', { p_app: app, p_text: text, p_source: search.source ?? null, p_limit: limit }));
  }

  async head(app: string): Promise<number> {
    return Number(await this.call('scopefs_records_head', { p_app: app }));
  }

  /** The store's pool or client stays open: it is the store's. */
  async close(): Promise<void> {}
}

function rowsOf(raw: unknown): StoredRecord[] {
  if (!Array.isArray(raw)) throw malformed(raw);
  return (raw as RecordRow[]).map((row) => fromRow(row, false));
}

function malformed(raw: unknown): ScopeFsError {
  return new ScopeFsError(
    'EIO',
    `the store answered a records call with ${JSON.stringify(raw)?.slice(0, 200)}: is migration 8 (008_records.sql) applied? run \`scopefs migrate\``,
  );
}
