/**
 * The journal's byte format. A journal is the 8-byte magic followed by
 * records; each record is framed as
 *
 *   u32le payloadLength | u32le crc32(payload) | payload
 *
 * and a payload is `u32le headerLength | header JSON | content bytes...`,
 * where the header lists the record's operations and the byte length of each
 * put's content (contents follow in the same order), and may carry the
 * change's audit entries on its first operation. A record is applied
 * whole or not at all: a prefix move of many files is one record.
 *
 * Every operation states the final state of one path (put with the full
 * content, or delete), so replaying a record onto state that already holds
 * it changes nothing: replay is idempotent.
 */
import { crc32 } from 'node:zlib';
import type { AuditEntry } from '../audit/types.js';
import { asBuffer } from '../content.js';

/**
 * `diskBase`: on a versioned driver, the version on disk the change was made
 * against (null: no file). A replay after a crash uses it to tell an outside
 * edit made while the server was down from its own earlier writes.
 */
interface DiskBaseField {
  diskBase?: string | null;
}

/**
 * `ref`: the id of the side file that holds a large put's content
 * (side-files.ts) instead of the record; the record keeps only id and size.
 */
interface RefField {
  ref?: string;
}

/**
 * `audit`: the audit entries of the change the record holds, on its first
 * op (audit-recorder.ts): the record makes them durable, so the audit log
 * costs no write of its own per change. Readers that do not know the field
 * ignore it, as they ignore any other.
 *
 * A record is written from the entries' lines (`auditLines`, made once by
 * the recorder, which writes the same lines to the log later) and read back
 * as entries (`audit`).
 */
interface AuditField {
  auditLines?: readonly string[];
  audit?: AuditEntry[];
}

/** Gives the content of a referenced put (replay reads and checks its side file); throws when it cannot. */
export type ResolveRef = (ref: string, bytes: number) => Uint8Array;

/** What a `ref` may be: 32 hex digits, a file name and nothing else (a crafted record cannot name another path). */
export const REF_PATTERN = /^[0-9a-f]{32}$/;

export type JournalOp =
  | ({ op: 'put'; path: string; content: Uint8Array; mimeType: string; createdAt: number; modifiedAt: number } & DiskBaseField & RefField & AuditField)
  | ({ op: 'delete'; path: string } & DiskBaseField & AuditField);

/** An op as a record's header holds it (its audit entries as read, unchecked). */
type HeaderOp =
  | ({ op: 'put'; path: string; mimeType: string; createdAt: number; modifiedAt: number; bytes: number } & DiskBaseField & RefField & { audit?: unknown })
  | ({ op: 'delete'; path: string } & DiskBaseField & { audit?: unknown });

export const JOURNAL_MAGIC = Buffer.from('SFSJRNL1', 'latin1');
const FRAME_BYTES = 8;
const LENGTH_BYTES = 4;

/** One record as one buffer (tests and small records; the journal writes `encodeRecordChunks`). */
export function encodeRecord(ops: readonly JournalOp[]): Buffer {
  return Buffer.concat(encodeRecordChunks(ops).chunks);
}

/**
 * One record as the pieces to write in order: the frame and header in one
 * small buffer, then each put's content as it is. Contents are never copied
 * into a joint buffer (a 50 MiB put cost two copies of it per append), and
 * the checksum runs over the pieces in turn.
 */
export function encodeRecordChunks(ops: readonly JournalOp[]): { chunks: Uint8Array[]; bytes: number } {
  const contents = ops.flatMap((op) => (op.op === 'put' && op.ref === undefined ? [op.content] : []));
  const json = headerJson(ops);
  const jsonBytes = Buffer.byteLength(json);
  const head = Buffer.allocUnsafe(FRAME_BYTES + LENGTH_BYTES + jsonBytes);
  head.writeUInt32LE(jsonBytes, FRAME_BYTES);
  head.write(json, FRAME_BYTES + LENGTH_BYTES, 'utf8');
  let checksum = crc32(head.subarray(FRAME_BYTES));
  let payloadBytes = head.byteLength - FRAME_BYTES;
  for (const content of contents) {
    checksum = crc32(content, checksum);
    payloadBytes += content.byteLength;
  }
  head.writeUInt32LE(payloadBytes >>> 0, 0);
  head.writeUInt32LE(checksum >>> 0, LENGTH_BYTES);
  return { chunks: [head, ...contents], bytes: FRAME_BYTES + payloadBytes };
}

/**
 * The header (a HeaderOp per op) as JSON, written out field by field: on the
 * path of every journaled change, where JSON.stringify of the objects cost
 * several times as much. Audit entries go in as the lines they came with.
 * `decodeJournal` reads it back as plain JSON.
 */
function headerJson(ops: readonly JournalOp[]): string {
  let json = '[';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    json += `${i === 0 ? '' : ','}{"op":"${op.op}","path":${text(op.path)}`;
    if (op.op === 'put') {
      json += `,"mimeType":${text(op.mimeType)},"createdAt":${number(op.createdAt)},"modifiedAt":${number(op.modifiedAt)},"bytes":${op.content.byteLength}`;
      if (op.ref !== undefined) json += `,"ref":${text(op.ref)}`;
    }
    if (op.diskBase !== undefined) json += `,"diskBase":${op.diskBase === null ? 'null' : text(op.diskBase)}`;
    if (op.auditLines !== undefined) json += `,"audit":[${op.auditLines.join(',')}]`;
    json += '}';
  }
  return `${json}]`;
}

const text = JSON.stringify;

/** A time as JSON writes it (a non-finite one as null, which the reader refuses as it always did). */
function number(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

export interface DecodedJournal {
  records: JournalOp[][];
  /** Bytes (from the start of the data, magic included) holding valid records. */
  validBytes: number;
  /** Trailing bytes that are not a complete, intact record: a torn last append. */
  ignoredBytes: number;
}

/**
 * Decodes a whole journal file. Stops at the first record that is
 * incomplete or fails its checksum; that tail is reported, not thrown.
 * Throws only when the data does not start with the journal magic.
 */
export function decodeJournal(data: Uint8Array, resolveRef: ResolveRef = noSideFiles): DecodedJournal {
  const buffer = asBuffer(data);
  if (buffer.byteLength < JOURNAL_MAGIC.byteLength) {
    // Killed before the magic was complete: an empty journal.
    if (JOURNAL_MAGIC.subarray(0, buffer.byteLength).equals(buffer)) {
      return { records: [], validBytes: 0, ignoredBytes: buffer.byteLength };
    }
    throw new Error('not a scopefs journal (bad magic)');
  }
  if (!buffer.subarray(0, JOURNAL_MAGIC.byteLength).equals(JOURNAL_MAGIC)) {
    throw new Error('not a scopefs journal (bad magic)');
  }
  const records: JournalOp[][] = [];
  let offset = JOURNAL_MAGIC.byteLength;
  for (;;) {
    const record = readRecord(buffer, offset, resolveRef);
    if (!record) break;
    records.push(record.ops);
    offset = record.end;
  }
  return { records, validBytes: offset, ignoredBytes: buffer.byteLength - offset };
}

function readRecord(buffer: Buffer, offset: number, resolveRef: ResolveRef): { ops: JournalOp[]; end: number } | undefined {
  if (buffer.byteLength - offset < FRAME_BYTES) return undefined;
  const length = buffer.readUInt32LE(offset);
  const checksum = buffer.readUInt32LE(offset + LENGTH_BYTES);
  const start = offset + FRAME_BYTES;
  const end = start + length;
  if (end > buffer.byteLength) return undefined;
  const payload = buffer.subarray(start, end);
  if (crc32(payload) !== checksum) return undefined;
  const ops = parsePayload(payload, resolveRef);
  return ops ? { ops, end } : undefined;
}

function parsePayload(payload: Buffer, resolveRef: ResolveRef): JournalOp[] | undefined {
  if (payload.byteLength < LENGTH_BYTES) return undefined;
  const headerEnd = LENGTH_BYTES + payload.readUInt32LE(0);
  if (headerEnd > payload.byteLength) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(payload.toString('utf8', LENGTH_BYTES, headerEnd));
  } catch {
    return undefined;
  }
  if (!Array.isArray(header) || !header.every(isHeaderOp)) return undefined;
  let cursor = headerEnd;
  const ops: JournalOp[] = [];
  for (const op of header) {
    const extra = { ...(op.diskBase === undefined ? {} : { diskBase: op.diskBase }), ...auditOf(op) };
    if (op.op === 'delete') {
      ops.push({ op: 'delete', path: op.path, ...extra });
      continue;
    }
    let content: Uint8Array;
    if (op.ref !== undefined) {
      // The record is intact (its crc32 matched), so a missing or damaged side file is an error, not a torn tail.
      content = resolveRef(op.ref, op.bytes);
    } else {
      content = new Uint8Array(payload.subarray(cursor, cursor + op.bytes)); // a copy, detached from the file buffer
      cursor += op.bytes;
    }
    ops.push({ op: 'put', path: op.path, content, mimeType: op.mimeType, createdAt: op.createdAt, modifiedAt: op.modifiedAt, ...extra });
  }
  return cursor === payload.byteLength ? ops : undefined;
}

/** The op's audit entries, those that are entries at all: a damaged note never costs the change it rides on. */
function auditOf(op: HeaderOp): Pick<AuditField, 'audit'> {
  if (!Array.isArray(op.audit)) return {};
  const entries = op.audit.filter(isAuditEntry);
  return entries.length > 0 ? { audit: entries } : {};
}

function isAuditEntry(value: unknown): value is AuditEntry {
  if (!value || typeof value !== 'object') return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.id === 'string' && typeof entry.at === 'number' && typeof entry.actor === 'string' && typeof entry.operation === 'string' && Array.isArray(entry.paths);
}

function isHeaderOp(value: unknown): value is HeaderOp {
  if (!value || typeof value !== 'object') return false;
  const op = value as Record<string, unknown>;
  if (typeof op.path !== 'string') return false;
  if (op.diskBase !== undefined && op.diskBase !== null && typeof op.diskBase !== 'string') return false;
  if (op.ref !== undefined && !(typeof op.ref === 'string' && REF_PATTERN.test(op.ref))) return false;
  if (op.op === 'delete') return true;
  return (
    op.op === 'put' &&
    typeof op.mimeType === 'string' &&
    typeof op.createdAt === 'number' &&
    typeof op.modifiedAt === 'number' &&
    Number.isSafeInteger(op.bytes) &&
    (op.bytes as number) >= 0
  );
}

function noSideFiles(ref: string): never {
  throw new Error(`the journal references content ${ref} in a side file, and none was given`);
}
