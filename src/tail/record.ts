/**
 * A complete line turned into a record: parsed, keyed, timestamped. Pure.
 *
 * The key decides what "exactly once" means. With `key` fields configured
 * it is a hash of the source and those fields' values (say thread,
 * timestamp, role and text): the same event is one record whichever file,
 * offset or instance it was read from. Without them it is a hash of the
 * source, the file's name, the line's byte offset and the line's bytes: a
 * line read again at the same place (after a restart, a truncation that
 * rewrote the same bytes, or by a second instance) is the same record, while
 * two equal lines at different places stay two records. Device and inode are
 * left out on purpose: they differ between machines, and a second instance
 * must produce the same key.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { SplitLine } from './lines.js';
import type { RecordInput } from '../../persistence/records/types.js';

export type ParseMode = 'json' | 'text';

export interface RecordSource {
  name: string;
  parse: ParseMode;
  key?: readonly string[];
}

/** JSON fields a record's `ts` is taken from, first match wins (a number of ms, or a date string). */
const TIME_FIELDS = ['timestamp', 'ts', 'time', 'created_at', 'createdAt'] as const;

export function toRecord(source: RecordSource, file: string, line: SplitLine, lineNo: number, at: number): RecordInput {
  const base = { source: source.name, file, offset: line.offset, line: lineNo, at };
  const text = line.bytes.toString('utf8');
  if (line.tooLong) {
    return {
      ...base,
      key: defaultKey(source.name, file, line.offset, line.bytes, line.length),
      raw: text,
      error: { code: 'ETOOLONG', message: `the line is ${line.length} bytes, over the limit; only its first ${line.bytes.length} are kept` },
    };
  }
  if (source.parse === 'text') return { ...base, key: defaultKey(source.name, file, line.offset, line.bytes), json: text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ...base, key: defaultKey(source.name, file, line.offset, line.bytes), raw: text, error: { code: 'EPARSE', message: errorMessage(err) } };
  }
  const ts = timestampOf(json);
  return { ...base, key: fieldKey(source, json) ?? defaultKey(source.name, file, line.offset, line.bytes), json, ...(ts === undefined ? {} : { ts }) };
}

function defaultKey(source: string, file: string, offset: number, bytes: Buffer, length = bytes.length): string {
  return createHash('sha256').update(`${source}\0${file}\0${offset}\0${length}\0`).update(bytes).digest('hex');
}

/** The configured fields' values (dotted paths allowed), or undefined when one is missing: then the default key applies. */
function fieldKey(source: RecordSource, json: unknown): string | undefined {
  if (!source.key || source.key.length === 0) return undefined;
  const values: unknown[] = [];
  for (const field of source.key) {
    const value = pick(json, field);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return createHash('sha256').update(`${source.name}\0`).update(JSON.stringify(values)).digest('hex');
}

function pick(json: unknown, path: string): unknown {
  let value = json;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function timestampOf(json: unknown): number | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  for (const field of TIME_FIELDS) {
    const value = (json as Record<string, unknown>)[field];
    if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
    if (typeof value === 'string') {
      const parsed = Date.parse(value);
      if (Number.isFinite(parsed)) return parsed;
    }
  }
  return undefined;
}
