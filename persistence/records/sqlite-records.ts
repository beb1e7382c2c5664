/**
 * Records in a SQLite database (schema 6): the SQLite store's file, or the
 * root's own `.scopefs/tail.db` when the scope has no store. An upsert is one
 * IMMEDIATE transaction, so two processes on one file number their records
 * without gaps or duplicates. The same file keeps the tail offsets.
 */
import Database from 'better-sqlite3';
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { openPrivateSqlite } from '../sql/private-sqlite.js';
import { checkCursor, checkSearch, fromRow, sinceLimit, type RecordRow } from './record-rows.js';
import type { RecordInput, RecordQuery, RecordSearch, StoredRecord, StoreRecords, TailOffsets } from './types.js';

const COLUMNS = 'key, seq, source, file, byte_offset, line_no, value, raw, error_code, error_message, ts, at';
const HEAD = 'SELECT head FROM scopefs_record_heads WHERE app = ?';
const SAVE_HEAD = 'INSERT INTO scopefs_record_heads (app, head) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET head = excluded.head';
const INSERT = `INSERT INTO scopefs_records (app, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, key) DO NOTHING`;
const SINCE = `SELECT ${COLUMNS} FROM scopefs_records WHERE app = ? AND seq > ?
  AND (? IS NULL OR source = ?) AND (? IS NULL OR file = ?) ORDER BY seq LIMIT ?`;
// instr on lower(): the same case-insensitive containment as the PostgreSQL function (LIKE would treat % and _).
const SEARCH = `SELECT ${COLUMNS} FROM scopefs_records WHERE app = ? AND (? IS NULL OR source = ?)
  AND instr(lower(coalesce(value, raw, '')), lower(?)) > 0 ORDER BY seq DESC LIMIT ?`;

function open(file: string, label: string): Database.Database {
  return openPrivateSqlite(file, { label }, (path, timeout) => new Database(path, { timeout }));
}

export class SqliteRecords implements StoreRecords {
  private opened: Database.Database | undefined;

  constructor(readonly file: string) {}

  /** Opened on first use: a scope that neither tails nor reads records opens (and creates) no file for them. */
  private get db(): Database.Database {
    return (this.opened ??= open(this.file, 'records'));
  }

  async upsert(app: string, records: readonly RecordInput[]): Promise<{ inserted: number; head: number }> {
    return this.guard(() =>
      this.db
        .transaction(() => {
          let head = (this.db.prepare(HEAD).get(app) as { head: number } | undefined)?.head ?? 0;
          const insert = this.db.prepare(INSERT);
          let inserted = 0;
          for (const r of records) {
            const value = r.json === undefined ? null : JSON.stringify(r.json);
            const row = [r.key, head + 1, r.source, r.file, r.offset, r.line, value, r.raw ?? null, r.error?.code ?? null, r.error?.message ?? null, r.ts ?? null, r.at];
            if (insert.run(app, ...row).changes === 1) {
              head++;
              inserted++;
            }
          }
          if (inserted > 0) this.db.prepare(SAVE_HEAD).run(app, head);
          return { inserted, head };
        })
        .immediate(),
    );
  }

  async since(app: string, cursor: number, query?: RecordQuery): Promise<StoredRecord[]> {
    checkCursor(cursor);
    const source = query?.source ?? null;
    const file = query?.file ?? null;
    const rows = this.guard(() => this.db.prepare(SINCE).all(app, cursor, source, source, file, file, sinceLimit(query)) as RecordRow[]);
    return rows.map((row) => fromRow(row, true));
  }

  async search(app: string, search: RecordSearch): Promise<StoredRecord[]> {
    const { text, limit } = checkSearch(search);
    const source = search.source ?? null;
    const rows = this.guard(() => this.db.prepare(SEARCH).all(app, source, source, text, limit) as RecordRow[]);
    return rows.map((row) => fromRow(row, true));
  }

  async head(app: string): Promise<number> {
    return this.guard(() => (this.db.prepare(HEAD).get(app) as { head: number } | undefined)?.head ?? 0);
  }

  async close(): Promise<void> {
    this.opened?.close();
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw isScopeFsError(err) ? err : new ScopeFsError('EIO', `records ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

export class SqliteTailOffsets implements TailOffsets {
  private opened: Database.Database | undefined;

  constructor(readonly file: string) {}

  /** Opened on first use: a scope that tails nothing opens (and creates) no tail.db at start. */
  private get db(): Database.Database {
    return (this.opened ??= open(this.file, 'tail offsets'));
  }

  async load(app: string): Promise<Array<{ source: string; file: string; state: string }>> {
    return this.db.prepare('SELECT source, file, state FROM scopefs_tail_offsets WHERE app = ?').all(app) as Array<{ source: string; file: string; state: string }>;
  }

  async save(app: string, source: string, file: string, state: string | null): Promise<void> {
    if (state === null) this.db.prepare('DELETE FROM scopefs_tail_offsets WHERE app = ? AND source = ? AND file = ?').run(app, source, file);
    else {
      this.db
        .prepare('INSERT INTO scopefs_tail_offsets (app, source, file, state) VALUES (?, ?, ?, ?) ON CONFLICT (app, source, file) DO UPDATE SET state = excluded.state')
        .run(app, source, file, state);
    }
  }

  async close(): Promise<void> {
    this.opened?.close();
  }
}
