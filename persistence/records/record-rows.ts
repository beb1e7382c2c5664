/**
 * Records to and from the columns the stores keep them in (SQLite schema 6,
 * migration 008): the same names in both, the value as JSON.
 */
import { ScopeFsError } from '../../src/errors.js';
import type { RecordInput, RecordQuery, RecordSearch, StoredRecord } from './types.js';

export interface RecordRow {
  key: string;
  seq: number | string;
  source: string;
  file: string;
  byte_offset: number | string;
  line_no: number | string;
  /** JSON text or NULL (SQLite); the decoded value, absent when the line did not parse (PostgreSQL). */
  value?: unknown;
  raw: string | null;
  error_code: string | null;
  error_message: string | null;
  ts: number | string | null;
  at: number | string;
}

export function toWire(record: RecordInput): Record<string, unknown> {
  return {
    key: record.key,
    source: record.source,
    file: record.file,
    byte_offset: record.offset,
    line_no: record.line,
    ...(record.json === undefined ? {} : { value: record.json }),
    raw: record.raw ?? null,
    error_code: record.error?.code ?? null,
    error_message: record.error?.message ?? null,
    ts: record.ts ?? null,
    at: record.at,
  };
}

export function fromRow(row: RecordRow, valueIsText: boolean): StoredRecord {
  const record: StoredRecord = {
    seq: Number(row.seq),
    key: row.key,
    source: row.source,
    file: row.file,
    offset: Number(row.byte_offset),
    line: Number(row.line_no),
    at: Number(row.at),
  };
  if (valueIsText ? row.value !== null : 'value' in row) record.json = valueIsText ? JSON.parse(String(row.value)) : row.value;
  if (row.raw !== null) record.raw = row.raw;
  if (row.error_code !== null) record.error = { code: row.error_code as 'EPARSE' | 'ETOOLONG', message: row.error_message ?? '' };
  if (row.ts !== null) record.ts = Number(row.ts);
  return record;
}

export const MAX_SINCE_LIMIT = 10_000;
export const MAX_SEARCH_LIMIT = 1000;

export function checkCursor(cursor: number): number {
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw new ScopeFsError('EINVAL', `a record cursor must be a non-negative integer, not ${cursor}`);
  return cursor;
}

export function sinceLimit(query: RecordQuery | undefined): number {
  return limitOf(query?.limit, 1000, MAX_SINCE_LIMIT);
}

export function checkSearch(search: RecordSearch): { text: string; limit: number } {
  if (typeof search.text !== 'string' || search.text === '') throw new ScopeFsError('EINVAL', 'a record search needs a non-empty text');
  return { text: search.text, limit: limitOf(search.limit, 50, MAX_SEARCH_LIMIT) };
}

function limitOf(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new ScopeFsError('EINVAL', `limit must be an integer from 1 to ${max}, not ${limit}`);
  return limit;
}

/** Whether a record's line contains the text, as the stores' search compares (case-insensitive). */
export function recordContains(record: RecordInput, lowerText: string): boolean {
  const haystack = record.json !== undefined ? JSON.stringify(record.json) : (record.raw ?? '');
  return haystack.toLowerCase().includes(lowerText);
}
