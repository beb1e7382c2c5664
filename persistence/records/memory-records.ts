/** Records in memory: for a scope without a root or store, and the memory store. */
import { checkCursor, checkSearch, recordContains, sinceLimit } from './record-rows.js';
import type { RecordInput, RecordQuery, RecordSearch, StoredRecord, StoreRecords, TailOffsets } from './types.js';

export class MemoryRecords implements StoreRecords {
  private readonly apps = new Map<string, { keys: Set<string>; rows: StoredRecord[] }>();

  async upsert(app: string, records: readonly RecordInput[]): Promise<{ inserted: number; head: number }> {
    const table = this.table(app);
    let inserted = 0;
    for (const record of records) {
      if (table.keys.has(record.key)) continue;
      table.keys.add(record.key);
      table.rows.push({ ...record, seq: table.rows.length + 1 });
      inserted++;
    }
    return { inserted, head: table.rows.length };
  }

  async since(app: string, cursor: number, query?: RecordQuery): Promise<StoredRecord[]> {
    checkCursor(cursor);
    const limit = sinceLimit(query);
    const out: StoredRecord[] = [];
    for (const row of this.table(app).rows.slice(cursor)) {
      if (query?.source !== undefined && row.source !== query.source) continue;
      if (query?.file !== undefined && row.file !== query.file) continue;
      out.push(row);
      if (out.length === limit) break;
    }
    return out;
  }

  async search(app: string, search: RecordSearch): Promise<StoredRecord[]> {
    const { text, limit } = checkSearch(search);
    const lower = text.toLowerCase();
    const rows = this.table(app).rows;
    const out: StoredRecord[] = [];
    for (let i = rows.length - 1; i >= 0 && out.length < limit; i--) {
      const row = rows[i]!;
      if ((search.source === undefined || row.source === search.source) && recordContains(row, lower)) out.push(row);
    }
    return out;
  }

  async head(app: string): Promise<number> {
    return this.table(app).rows.length;
  }

  async close(): Promise<void> {}

  private table(app: string): { keys: Set<string>; rows: StoredRecord[] } {
    let table = this.apps.get(app);
    if (!table) this.apps.set(app, (table = { keys: new Set(), rows: [] }));
    return table;
  }
}

export class MemoryTailOffsets implements TailOffsets {
  private readonly rows = new Map<string, { source: string; file: string; state: string }>();

  async load(app: string): Promise<Array<{ source: string; file: string; state: string }>> {
    return [...this.rows.entries()].filter(([id]) => id.startsWith(`${app}\0`)).map(([, row]) => row);
  }

  async save(app: string, source: string, file: string, state: string | null): Promise<void> {
    const id = `${app}\0${source}\0${file}`;
    if (state === null) this.rows.delete(id);
    else this.rows.set(id, { source, file, state });
  }

  async close(): Promise<void> {}
}
