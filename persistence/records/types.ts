/**
 * Records tailed from JSONL files (src/tail/), as the stores keep them: one
 * per key per app, numbered by `seq` (the app's record cursor) in the order
 * they were first stored.
 */

export interface RecordError {
  /** `EPARSE`: not valid JSON; `ETOOLONG`: over the line-length limit. */
  code: 'EPARSE' | 'ETOOLONG';
  message: string;
}

export interface RecordInput {
  key: string;
  source: string;
  /** The file: a scope path (`/logs/a.jsonl`) or an absolute path outside the scope. */
  file: string;
  /** Byte offset of the line in the file. */
  offset: number;
  /** Line number in the file, from 1 (counted from where the file last started again). */
  line: number;
  /** The parsed line (a string for `parse: 'text'`); absent when it did not parse. */
  json?: unknown;
  /** The line itself when it did not parse (its first bytes when too long). */
  raw?: string;
  error?: RecordError;
  /** A time from the line (`timestamp`, `ts`, `time`, ...), ms since the epoch. */
  ts?: number;
  /** When it was read, ms since the epoch. */
  at: number;
}

export interface StoredRecord extends RecordInput {
  /** The app's record cursor: `since(seq)` returns what came after this one. */
  seq: number;
}

export interface RecordQuery {
  source?: string;
  file?: string;
  /** Default 1000, at most 10,000. */
  limit?: number;
}

export interface RecordSearch {
  /** Text the line contains (case-insensitive). */
  text: string;
  source?: string;
  /** Default 50, at most 1000. */
  limit?: number;
}

/** The records table of a store. */
export interface StoreRecords {
  /** Stores the records whose key the app does not hold yet, in order. */
  upsert(app: string, records: readonly RecordInput[]): Promise<{ inserted: number; head: number }>;
  /** Records after the cursor, ascending. */
  since(app: string, cursor: number, query?: RecordQuery): Promise<StoredRecord[]>;
  /** Records whose line contains the text, newest first. */
  search(app: string, search: RecordSearch): Promise<StoredRecord[]>;
  head(app: string): Promise<number>;
  close(): Promise<void>;
}

/** Where each tailed file was read to: local to the machine (cursors hold device and inode). */
export interface TailOffsets {
  load(app: string): Promise<Array<{ source: string; file: string; state: string }>>;
  save(app: string, source: string, file: string, state: string | null): Promise<void>;
  close(): Promise<void>;
}
